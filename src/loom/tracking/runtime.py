"""Per-run background work: environment capture and the system-metrics sampler.

Errors in background work are kept and returned by :meth:`RunExtras.stop`,
so ``end_run`` raises them instead of losing them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from loom.tracking.sysmetrics import Log, SystemSampler


class RunExtras:
    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []
        self._sampler: SystemSampler | None = None

    def background(self, work: Callable[[], None]) -> None:
        def target() -> None:
            try:
                work()
            except BaseException as exc:  # kept for stop(); a thread can't raise to the caller
                self._errors.append(exc)

        t = threading.Thread(target=target, name="loom-capture", daemon=True)
        t.start()
        self._threads.append(t)

    def sample(self, log: Log, interval: float) -> None:
        self._sampler = SystemSampler(log, interval).start()

    def stop(self) -> list[BaseException]:
        """Wait for background work; stop sampling; return the errors it hit."""
        if self._sampler is not None:
            self._sampler.stop()
        for t in self._threads:
            t.join(timeout=60)
        return self._errors
