"""One writer per workspace: an exclusive ``flock`` on ``.loom/lock``.

The kernel drops the lock when its process dies, so a SIGKILLed ``loom``
never leaves a stale lock behind.

    >>> with workspace_lock(ws):
    ...     ...  # add, checkout, push, pull or gc
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from loom.data.workspace import Workspace
from loom.errors import LockedError

_POLL_SECONDS = 0.02


# Per thread: lock path -> depth, so pull may call checkout under its own lock. Per thread,
# not per process: another thread (a server worker, a parallel stage) must take the flock
# itself, and flock on its own open file description waits for this one like a process would.
_HELD = threading.local()


def _depths() -> dict[str, int]:
    depths = getattr(_HELD, "depths", None)
    if depths is None:
        depths = _HELD.depths = {}
    return depths


@contextmanager
def workspace_lock(ws: Workspace, timeout: float | None = None) -> Iterator[None]:
    """Hold the workspace lock; wait up to ``lock.timeout_seconds`` then raise LockedError."""
    key = str(ws.loom_dir / "lock")
    held = _depths()
    if held.get(key):
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    if timeout is None:
        timeout = float(ws.setting("lock.timeout_seconds"))
    path = ws.loom_dir / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockedError(
                        f"Another loom process is working in {ws.root} "
                        f"(waited {timeout:g}s for {path}).",
                        hint="Wait for it to finish and run the command again; "
                        "raise lock.timeout_seconds in .loom/config.toml to wait longer.",
                        path=str(path),
                    ) from None
                time.sleep(_POLL_SECONDS)  # polling a lock held by another process
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        held[key] = 1
        try:
            yield
        finally:
            held.pop(key, None)
    finally:
        os.close(fd)  # closing releases the flock
