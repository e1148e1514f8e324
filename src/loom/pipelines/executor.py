"""Running one stage's command: the one small interface between planning and processes.

    >>> running = LocalExecutor(Console(prefix=False)).start(Job("train", "python t.py", root, env))
    >>> running.wait().status                                   # doctest: +SKIP
    0

An ``Executor`` starts a ``Job`` (a command, its environment and working
directory) and hands back a ``Running``: ``wait()`` gives the exit status and
the tails of stdout and stderr, ``kill()`` stops it. Scheduling, locking and
the run cache never see more than that, so a cluster engine (Ray, Dask,
Kubernetes jobs) can run stages later by implementing these two methods.

The local one runs the command with ``/bin/sh -c`` in a new process group (so
Ctrl-C on the terminal reaches ``loom`` only, and ``kill()`` stops the command
and everything it started), streams its output line by line through a
``Console`` — prefixed with the stage name when stages run side by side,
whole lines only, never two stages' output within one line — and keeps the
last lines of each stream.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

TAIL_LINES = 100
TAIL_CHARS = 16_000
KILL_GRACE_SECONDS = 5.0  # after SIGTERM, a command gets this long before SIGKILL


@dataclass(frozen=True)
class Job:
    name: str
    cmd: str
    cwd: Path
    env: Mapping[str, str]


@dataclass(frozen=True)
class Outcome:
    status: int  # the exit status; -N when signal N ended it
    stdout: str  # the tail of stdout
    stderr: str  # the tail of stderr
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == 0


class Running(Protocol):
    def wait(self) -> Outcome: ...

    def kill(self) -> None: ...


class Executor(Protocol):
    def start(self, job: Job) -> Running: ...


class Console:
    """Where stage output goes: whole lines, one writer at a time, optionally prefixed."""

    def __init__(
        self, *, prefix: bool, out: IO[str] | None = None, err: IO[str] | None = None
    ) -> None:
        self.prefix = prefix
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._lock = threading.Lock()

    def line(self, stage: str, stderr: bool, data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        if self.prefix:
            text = f"[{stage}] {text}" + ("" if text.endswith("\n") else "\n")
        stream = self.err if stderr else self.out
        with self._lock:
            try:
                stream.write(text)
                stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # the reader went away (`loom repro | head`): the stage goes on

    def say(self, text: str) -> None:
        """A line of loom's own (stage started, skipped …), between the stages' lines."""
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()


class LocalExecutor:
    def __init__(self, console: Console) -> None:
        self.console = console

    def start(self, job: Job) -> LocalRunning:
        return LocalRunning(job, self.console)


class LocalRunning:
    def __init__(self, job: Job, console: Console) -> None:
        self.job = job
        self.started = time.monotonic()
        self._killed = threading.Event()
        self.killed_at = 0.0
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", job.cmd],
            cwd=job.cwd,
            env=dict(job.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            process_group=0,  # its own group: killpg reaches whatever it started
        )
        self._tails: dict[bool, deque[bytes]] = {False: deque(maxlen=TAIL_LINES)}
        self._tails[True] = deque(maxlen=TAIL_LINES)
        self._readers = [
            threading.Thread(
                target=self._pump, args=(pipe, is_err, console), daemon=True, name="loom-output"
            )
            for pipe, is_err in ((self.proc.stdout, False), (self.proc.stderr, True))
        ]
        for t in self._readers:
            t.start()

    def _pump(self, pipe: IO[bytes] | None, is_err: bool, console: Console) -> None:
        assert pipe is not None
        tail = self._tails[is_err]
        with pipe:
            for line in iter(pipe.readline, b""):
                tail.append(line)
                console.line(self.job.name, is_err, line)

    def wait(self) -> Outcome:
        status = self.proc.wait()
        if self._killed.is_set():
            self._reap_group()
        for t in self._readers:
            t.join()
        return Outcome(
            status,
            _tail(self._tails[False]),
            _tail(self._tails[True]),
            time.monotonic() - self.started,
        )

    def kill(self) -> None:
        """SIGTERM to the command's process group; SIGKILL if it is still there after the
        grace period."""
        if self.proc.poll() is not None or self._killed.is_set():
            return
        self.killed_at = time.monotonic()
        self._killed.set()
        _signal_group(self.proc.pid, signal.SIGTERM)
        threading.Thread(target=self._kill_later, daemon=True, name="loom-kill").start()

    def _kill_later(self) -> None:
        try:
            self.proc.wait(KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(self.proc.pid, signal.SIGKILL)  # the command itself ignored it

    def _reap_group(self) -> None:
        """After a kill: give the rest of the group the grace period, then SIGKILL what is
        left, before ``wait`` returns (so before this process may exit). The period is the
        group's, not the shell's: `sh -c` dies at once on SIGTERM, while what it started
        may be stopping cleanly (a `loom repro` killing its own stages, as `exp run
        --run-all` starts one) and must not be cut short."""
        deadline = self.killed_at + KILL_GRACE_SECONDS
        while time.monotonic() < deadline and _group_alive(self.proc.pid):
            time.sleep(0.05)
        _signal_group(self.proc.pid, signal.SIGKILL)  # stragglers of the group, too


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs. A zombie does not: one whose parent
    died waits for init to reap it, and init in a container may take its time."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return True  # no /proc: count it alive, the grace period still ends
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already


def _tail(lines: deque[bytes]) -> str:
    text = b"".join(lines).decode("utf-8", "replace")
    return text[-TAIL_CHARS:]
