"""Two loom processes in one workspace: the second waits briefly, then says so clearly."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.conftest import wait_for

from .conftest import loom_run, make_dataset

_HOLD = """
import sys, time
from loom.data.lock import workspace_lock
from loom.data.workspace import Workspace
with workspace_lock(Workspace.find()):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_second_process_waits_then_fails_clearly(ws):
    make_dataset("data", n=3)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD],
        cwd=ws.root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        r = loom_run("add", "data", cwd=ws.root)
        waited = time.monotonic() - start
        assert r.returncode == 1
        assert "Another loom process is working" in r.stderr and "Hint:" in r.stderr
        assert waited >= 3.0  # lock.timeout_seconds
        assert not (ws.root / "data.loom").exists() and not (ws.root / ".gitignore").exists()
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=10)
    assert loom_run("add", "data", cwd=ws.root).returncode == 0
    assert loom_run("fsck", cwd=ws.root).returncode == 0


def test_lock_of_a_killed_process_is_released(ws):
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD], cwd=ws.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert holder.stdout.readline().strip() == b"locked"
    holder.kill()
    holder.wait()
    make_dataset("data", n=2)
    wait_for(
        lambda: loom_run("add", "data", cwd=ws.root).returncode == 0,
        timeout=10,
        what="lock released by the kernel",
    )


def test_a_second_thread_waits_for_the_lock_like_another_process(ws):
    """The depth count is per thread: a thread must not slip in under another's lock."""
    import threading

    from loom.data.lock import workspace_lock
    from loom.errors import LockedError

    held, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def holder() -> None:
        with workspace_lock(ws), workspace_lock(ws):  # re-entry in one thread still works
            held.set()
            release.wait(10)

    def second() -> None:
        try:
            with workspace_lock(ws, timeout=0.3):
                outcome["got"] = True
        except LockedError as exc:
            outcome["error"] = exc

    first = threading.Thread(target=holder)
    first.start()
    assert held.wait(10)
    other = threading.Thread(target=second)
    other.start()
    other.join(10)
    assert "got" not in outcome and isinstance(outcome.get("error"), LockedError)
    release.set()
    first.join(10)
    other = threading.Thread(target=second)  # free again: a thread now gets it
    outcome.clear()
    other.start()
    other.join(10)
    assert outcome == {"got": True}
