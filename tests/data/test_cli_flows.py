"""CLI behaviour around the library: progress bars, multi-path validation, relative remotes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from .conftest import make_dataset, snapshot


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``args`` with stderr on a pseudo-terminal: (exit code, stdout, what the terminal got)."""
    import pty
    import subprocess
    import threading

    master, slave = pty.openpty()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the process closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    out, _ = proc.communicate(timeout=120)
    reader.join(timeout=30)
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("entry", ["fast", "typer"])
def test_progress_bars_go_to_stderr_on_a_terminal(ws, entry):
    make_dataset("data", n=200)
    script = "import sys; from loom.cli.fast import main; sys.argv[0] = 'loom'; main()"
    loom = [sys.executable, "-c", script] if entry == "fast" else [sys.executable, "-m", "loom"]
    code, out, tty = _on_a_terminal([*loom, "add", "data"], ws.root)
    assert code == 0 and "Hashing data" in tty
    assert "Hashing" not in out and "Added data (200 files" in out
    code, out, tty = _on_a_terminal([*loom, "add", "-q", "data"], ws.root)
    assert (code, out) == (0, "") and "Hashing" not in tty


def test_one_bad_path_means_nothing_is_added(ws, cli):
    make_dataset("good", n=2)
    before = snapshot(ws.root)
    r = cli("add", "good", "missing")
    assert r.code == 1 and "missing does not exist" in r.err
    assert not Path("good.loom").exists() and not Path(".gitignore").exists()
    after = snapshot(ws.root)
    assert {k: v for k, v in after.items() if not k.startswith(".loom/")} == {
        k: v for k, v in before.items() if not k.startswith(".loom/")
    }


def test_relative_remote_is_relative_to_the_workspace(ws, cli):
    make_dataset("data", n=2)
    assert cli("add", "data").code == 0
    assert cli("remote", "add", "-d", "near", "../near-remote").code == 0
    os.chdir("data")  # push from a subfolder: the remote is still beside the workspace
    r = cli("push", "--json")
    assert r.code == 0, r.err
    assert (ws.root.parent / "near-remote").is_dir()
    assert not (ws.root / "near-remote").exists()
