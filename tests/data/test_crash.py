"""Real ``loom`` processes killed with SIGKILL mid-command: re-running completes, fsck is clean."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import wait_for

from .conftest import commit, git, loom_proc, loom_run, snapshot, write

pytestmark = pytest.mark.slow

# Early (the console script starts in ~0.05 s), middle and late in the work. The
# data below is sized so that every command is still working at the later points
# even on a quiet machine; at least one kill must land mid-command.
DELAYS = (0.1, 0.3, 0.6, 1.0)


def _dataset(root: Path, n: int = 800, big: int = 2, seed: int = 0) -> None:
    rnd = __import__("random").Random(seed)
    for i in range(n):
        write(root / f"d{i % 20}" / f"f{i}.txt", f"{seed}-{i}-" + "x" * rnd.randint(1, 2000))
    for i in range(big):
        write(root / f"big{i}.bin", rnd.randbytes(16 * 1024 * 1024))


def _kill_at_points(args: list[str], cwd: Path) -> None:
    """Kill ``loom ARGS`` at each of DELAYS in turn, each run starting where the last died."""
    killed = [_kill_after(args, cwd, delay) for delay in DELAYS]
    assert any(killed), f"loom {' '.join(args)} always finished before the kill"


def _kill_after(args: list[str], cwd: Path, delay: float) -> bool:
    """Start ``loom ARGS`` and SIGKILL it after ``delay`` s; True if it was still running."""
    proc = loom_proc(*args, cwd=cwd)
    deadline = time.monotonic() + delay
    wait_for(
        lambda: proc.poll() is not None or time.monotonic() >= deadline,
        timeout=30,
        what=f"{delay}s into loom {' '.join(args)}",
    )
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    code = proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    return code == -signal.SIGKILL


def _ok(*args: str, cwd: Path) -> str:
    r = loom_run(*args, cwd=cwd)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def _fsck_clean(cwd: Path) -> None:
    assert "0 problem(s)" in _ok("fsck", cwd=cwd)


def test_killed_add_then_add_again(ws):
    _dataset(ws.root / "data")
    _kill_at_points(["add", "data"], ws.root)
    _fsck_clean(ws.root)
    _ok("add", "data", cwd=ws.root)
    assert '"clean"' in _ok("status", "--json", cwd=ws.root)
    _fsck_clean(ws.root)


@pytest.fixture
def pushed(ws, tmp_path):
    _dataset(ws.root / "data")
    _ok("add", "data", cwd=ws.root)
    _ok("remote", "add", "-d", "storage", str(tmp_path / "remote"), cwd=ws.root)
    commit("v1")
    return ws


def test_killed_push_then_push_again(pushed, tmp_path):
    _kill_at_points(["push"], pushed.root)
    _ok("push", cwd=pushed.root)
    # the remote is whole: a fresh clone pulls everything and it verifies
    clone = tmp_path / "clone"
    git("clone", "-q", str(pushed.root), str(clone))
    _ok("pull", cwd=clone)
    _fsck_clean(clone)
    assert snapshot(clone / "data") == snapshot(pushed.root / "data")


def test_killed_pull_then_pull_again(pushed):
    _ok("push", cwd=pushed.root)
    expected = snapshot(pushed.root / "data")
    shutil.rmtree(pushed.odb.root)
    shutil.rmtree(pushed.root / "data")
    _kill_at_points(["pull"], pushed.root)
    _fsck_clean(pushed.root)
    _ok("pull", cwd=pushed.root)
    _fsck_clean(pushed.root)
    assert snapshot(pushed.root / "data") == expected


def test_killed_checkout_then_checkout_again(pushed):
    v1 = snapshot(pushed.root / "data")
    for i in range(0, 800, 2):
        write(pushed.root / "data" / f"d{i % 20}" / f"f{i}.txt", f"v2-{i}")
    write(pushed.root / "data/big0.bin", os.urandom(5 * 1024 * 1024))
    _ok("add", "data", cwd=pushed.root)
    commit("v2")
    git("checkout", "-q", "HEAD~1")
    _kill_at_points(["checkout"], pushed.root)
    _ok("checkout", cwd=pushed.root)
    assert snapshot(pushed.root / "data") == v1
    assert '"clean"' in _ok("status", "--json", cwd=pushed.root)
    _fsck_clean(pushed.root)


def test_killed_gc_then_gc_again(pushed):
    for i in range(0, 800, 3):
        write(pushed.root / "data" / f"d{i % 20}" / f"f{i}.txt", f"v2-{i}")
    _ok("add", "data", cwd=pushed.root)
    past = time.time() - 7200
    for p in pushed.odb.root.rglob("*"):
        if p.is_file():
            os.utime(p, (past, past))
    _kill_at_points(["gc", "--workspace"], pushed.root)
    _fsck_clean(pushed.root)
    _ok("gc", "--workspace", cwd=pushed.root)
    _fsck_clean(pushed.root)
    assert '"clean"' in _ok("status", "--json", cwd=pushed.root)
    shutil.rmtree(pushed.root / "data")
    _ok("checkout", cwd=pushed.root)  # everything the workspace needs survived
