"""How library code reports progress without knowing who draws it.

The CLI passes an object with ``task(what, total) -> advance``; library code
calls ``advance(n)`` as work finishes. The default draws nothing.

    >>> advance = NO_PROGRESS.task("hashing", 20_000)
    >>> advance(1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Advance = Callable[[int], None]


class Progress(Protocol):
    def task(self, what: str, total: int | None) -> Advance: ...


class _Silent:
    def task(self, what: str, total: int | None) -> Advance:
        return _nothing


def _nothing(n: int) -> None:
    return None


NO_PROGRESS: Progress = _Silent()
