"""Progress bars for the data commands: rich on stderr, only on a terminal, imported lazily.

One implementation for the typer commands and the console script's fast
path. rich costs ~0.1 s to import, so it is imported when a library call
first asks for a bar (``task``), never for a command that ends before that.

    >>> with bars(quiet=True) as progress:  # NO_PROGRESS: nothing drawn
    ...     advance = progress.task("Hashing", 10)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def bars(quiet: bool) -> Iterator[Any]:
    """loom.data's Progress protocol; NO_PROGRESS when quiet or stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        from loom.data.progress import NO_PROGRESS

        yield NO_PROGRESS
        return
    lazy = _LazyBars()
    try:
        yield lazy
    finally:
        lazy.stop()


class _LazyBars:
    def __init__(self) -> None:
        self.bars: Any = None

    def task(self, what: str, total: int | None) -> Callable[[int], None]:
        if self.bars is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            from loom.cli import output

            columns = (
                "{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            self.bars = Progress(*columns, console=output.err_console, transient=True)
            self.bars.start()
        bars = self.bars
        task_id = bars.add_task(what, total=total)
        return lambda n: bars.advance(task_id, n)

    def stop(self) -> None:
        if self.bars is not None:
            self.bars.stop()
