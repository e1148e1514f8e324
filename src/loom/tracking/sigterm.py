"""SIGTERM ends an active run KILLED, as Ctrl-C does.

``docker stop``, Slurm and Kubernetes send SIGTERM, then SIGKILL after a grace
period. Python's default for SIGTERM is to die on the spot (no ``finally``, no
atexit), which left the run RUNNING until ``loom runs mark-stale``. While a
run is active, Loom turns SIGTERM into :class:`Terminated`, a ``SystemExit``
with status 143 (128 + 15, what a shell reports for a process SIGTERM killed):
``with`` blocks and ``finally`` clauses run, the run ends KILLED with its
buffered metrics written, and the process exits 143.

Only the main thread can install a handler, and only Python's default one is
replaced: a handler the user or a framework installed is never touched. The
default comes back when the last run ends, and in a forked child.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType


class Terminated(SystemExit):
    """Raised in the main thread when the process gets SIGTERM while a run is active."""


_installed = False
received = False  # SIGTERM arrived: runs still open at exit end KILLED


def _handler(signum: int, frame: FrameType | None) -> None:
    global received
    if received:
        return  # a second SIGTERM must not interrupt the clean-up the first one started
    received = True
    raise Terminated(128 + signum)


def install() -> None:
    """Take over SIGTERM if nobody else has (call from ``start_run``)."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return  # the user's or a framework's handler decides what SIGTERM means
    signal.signal(signal.SIGTERM, _handler)
    _installed = True


def uninstall() -> None:
    """Give SIGTERM back its default once no run is active (if it is still ours)."""
    global _installed
    if not _installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is _handler:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _installed = False


def _after_fork_in_child() -> None:
    # A forked child (a DataLoader worker) doesn't own the parent's run.
    global _installed, received
    try:
        if _installed and signal.getsignal(signal.SIGTERM) is _handler:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except ValueError:  # forked from a thread other than the main one: nothing to undo there
        pass
    _installed = received = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
