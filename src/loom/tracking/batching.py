"""Asynchronous, batched logging of metrics and tags.

``add`` (a metric) and ``add_tag`` append to an in-memory buffer and returns (a few microseconds); a
daemon thread writes what has gathered every ``interval`` seconds, or sooner
when the buffer grows past ``max_pending``. ``flush`` writes synchronously.
An error while writing is kept and raised by the next ``add`` or ``flush`` —
the points of the failed batch are kept too, so nothing is silently lost.

    >>> b = MetricBuffer(lambda run_id, metrics, tags: None, interval=0.5)
    >>> b.add("run", Metric("loss", 0.5, 0, 0)); b.flush(); b.close()
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence

from loom.errors import LoomError, StoreError, UsageError
from loom.store.entities import Metric

Tag = tuple[str, str]
Item = Metric | Tag
# write(run_id, metrics, tags): one store transaction.
Writer = Callable[[str, Sequence[Metric], dict[str, str]], None]

# One store transaction per run per batch; bigger batches are split so a single
# write never holds SQLite's lock for long.
MAX_BATCH = 5000


_BUFFERS: weakref.WeakSet[MetricBuffer] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # A forked child (a DataLoader worker, multiprocessing) has no flusher thread and
    # may inherit a held lock: give it fresh ones; its own first log starts a thread.
    for buf in list(_BUFFERS):
        buf._pending, buf._retry, buf._inflight = deque(), [], 0  # the parent writes those
        buf._error = None
        buf._thread = None
        buf._flush_lock = threading.Lock()
        buf._start_lock = threading.Lock()
        buf._wake = threading.Event()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class MetricBuffer:
    def __init__(self, write: Writer, *, interval: float = 0.5, max_pending: int = 10_000) -> None:
        self._write = write
        self.interval = interval
        self.max_pending = max_pending
        self._pending: deque[tuple[str, Item]] = deque()
        self._retry: list[tuple[str, Item]] = []
        self._inflight = 0
        self._error: Exception | None = None
        self._flush_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        _BUFFERS.add(self)

    def add(self, run_id: str, item: Item) -> None:
        """Buffer a Metric or a (key, value) tag for ``run_id``."""
        if self._error is not None:
            self.raise_error()
        self._pending.append((run_id, item))
        if self._thread is None:
            self._start()
        elif len(self._pending) >= self.max_pending and not self._wake.is_set():
            self._wake.set()  # once: setting an Event takes its lock, 1 µs a point

    def add_many(self, run_id: str, items: Sequence[Item]) -> None:
        """Buffer several Metrics or tags of one run (what ``log_batch`` hands over)."""
        if self._error is not None:
            self.raise_error()
        self._pending.extend([(run_id, item) for item in items])
        if self._thread is None:
            self._start()
        elif len(self._pending) >= self.max_pending and not self._wake.is_set():
            self._wake.set()

    def pending(self) -> int:
        """Points not yet in the store, counting a batch being written right now."""
        return len(self._pending) + len(self._retry) + self._inflight

    def flush(self, last: Mapping[str, Writer] | None = None) -> None:
        """Write everything buffered now; raise a kept error or the error of this write.

        ``last`` maps a run id to the writer of that run's final chunk: ending a run
        writes its last points and its status in one transaction.
        """
        self._drain(last or {})
        self.raise_error()

    def flush_keep_error(self) -> None:
        """Write what is buffered; a failure stays kept for the next ``add`` or ``flush``."""
        if self._error is None:
            self._drain({})

    def raise_error(self) -> None:
        err, self._error = self._error, None
        if err is None:
            return
        if isinstance(err, LoomError):
            raise err
        raise StoreError(
            f"Logging metrics in the background failed: {err}",
            hint="The unwritten points are kept; call loom.flush() to retry once the store "
            "is reachable.",
        ) from err

    def close(self) -> None:
        """Stop the thread after a last synchronous write (errors are raised)."""
        self._stop = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self._thread = None
        self.flush()

    def _start(self) -> None:
        with self._start_lock:  # the sampler thread and the caller may both get here first
            if self._thread is not None:
                return
            self._stop = False
            thread = threading.Thread(target=self._loop, name="loom-flusher", daemon=True)
            thread.start()
            self._thread = thread

    def _loop(self) -> None:
        while not self._stop:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._error is None:
                self._drain({})

    def _drain(self, last: Mapping[str, Writer]) -> None:
        with self._flush_lock:
            # Count before moving, so pending() never reads 0 while points are in hand.
            # Points added meanwhile stay for the next drain: a busy producer can't
            # keep one drain going for ever.
            n = len(self._pending)
            self._inflight = len(self._retry) + n
            batch, self._retry = self._retry, []
            pop = self._pending.popleft
            batch += [pop() for _ in range(n)]
            try:
                self._write_batch(batch, last)
            finally:
                self._inflight = 0

    def _write_batch(self, batch: list[tuple[str, Item]], last: Mapping[str, Writer]) -> None:
        if not batch:
            return
        metrics: dict[str, list[Metric]] = defaultdict(list)
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for run_id, item in batch:
            if isinstance(item, Metric):
                metrics[run_id].append(item)
            else:
                tags[run_id][item[0]] = item[1]  # the last value set wins
        chunks: list[tuple[str, list[Metric], dict[str, str], Writer]] = []
        for run_id in dict.fromkeys(r for r, _ in batch):
            ms = metrics.get(run_id, [])
            for i in range(0, max(len(ms), 1), MAX_BATCH):
                chunks.append((run_id, ms[i : i + MAX_BATCH], tags.pop(run_id, {}), self._write))
            if run_id in last:  # the run's final chunk goes to its own writer
                chunks[-1] = (*chunks[-1][:3], last[run_id])
        for n, (run_id, ms, ts, writer) in enumerate(chunks):
            try:
                writer(run_id, ms, ts)
            except BaseException as exc:  # kept for the caller; never swallowed
                # A rejected batch (bad key or value) can never succeed: drop it but
                # report it. Anything else (store down, disk full, Ctrl-C) is retried later.
                rest = chunks[n + 1 :] if isinstance(exc, UsageError) else chunks[n:]
                self._retry = [(c[0], m) for c in rest for m in [*c[1], *c[2].items()]]  # type: ignore[misc]
                if not isinstance(exc, Exception):
                    raise  # Ctrl-C or SIGTERM stays itself; the points wait for a retry
                self._error = exc
                return
