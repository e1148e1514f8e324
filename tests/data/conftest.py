"""Fixtures for loom.data: a real git repo with a Loom workspace, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from loom.data.workspace import Workspace, init


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def ws(git_repo: Path) -> Workspace:
    """A fresh workspace (git repo + ``loom init``) as the current directory."""
    return init(git_repo)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run ``loom ARGS`` in-process; returns exit code, stdout and stderr."""
    from loom.cli.main import run

    def call(*args: str) -> Result:
        capsys.readouterr()
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return call


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def commit(message: str, cwd: Path | None = None) -> None:
    git("add", "-A", cwd=cwd)
    git("commit", "-q", "-m", message, cwd=cwd)


def write(path: Path | str, text: str | bytes) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def make_dataset(root: Path | str, n: int = 20, seed: int = 0) -> Path:
    root = Path(root)
    for i in range(n):
        write(root / f"part-{i:03}.csv", f"id,value\n{i},{seed}\n" * (i + 1))
    return root


def loom_proc(*args: str, cwd: Path, **kw) -> subprocess.Popen:
    """A real ``loom`` process (for crash and lock tests)."""
    return subprocess.Popen(
        [sys.executable, "-m", "loom", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "LOOM_DEBUG": "1"},
        **kw,
    )


def loom_run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loom", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes), for before/after comparisons."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def corrupt_object(odb, oid: str) -> Path:
    """Flip one byte of a cached object (packed or loose); returns the file changed."""
    odb.packs.refresh(force=True)
    hit = odb.packs.lookup(oid)
    if hit is not None:
        pack, offset, size = hit
        path, at = Path(pack.pack_path), offset + size // 2
    else:
        path = odb.path(oid)
        at = path.stat().st_size // 2
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    return path
