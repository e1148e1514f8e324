"""Finding runs whose process died: RUNNING in the store, but nobody is logging.

A run records ``loom.host``, ``loom.pid`` and ``loom.pid_start`` when it
starts. On the same host, a dead pid (or a pid now owned by a process that
started later) means the run is stale. ``older_than`` also catches runs from
other hosts: no metric logged and no start for that many seconds.

    >>> is_pid_alive(os.getpid(), None)
    True
"""

from __future__ import annotations

import os
import socket
import time

from loom.store.entities import Run
from loom.tracking.env import process_start_ticks


def is_pid_alive(pid: int, start_ticks: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if start_ticks is not None:
        now = process_start_ticks(pid)
        if now is not None and now != start_ticks:
            return False  # the pid was reused by a newer process
    return True


def dead_on_this_host(run: Run) -> bool:
    if run.tags.get("loom.host") != socket.gethostname():
        return False
    pid = run.tags.get("loom.pid", "")
    if not pid.isdigit():
        return False
    return not is_pid_alive(int(pid), run.tags.get("loom.pid_start"))


def idle_for(run: Run, last_activity_ms: int, older_than: float) -> bool:
    return (time.time() * 1000 - max(run.start_time, last_activity_ms)) > older_than * 1000
