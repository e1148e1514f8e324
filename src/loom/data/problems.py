"""What went wrong, path by path, so that one bad path doesn't stop the others.

``checkout``, ``fetch`` and ``pull`` do every path they can, collect the rest
here, then raise ONE error listing them (``path: reason``), of the class of
the most serious problem, with the fields a program needs (``paths``,
``oids``, ``errors`` and the command's ``result``).

    >>> problems.add("data/raw/a.csv", exc)
    >>> problems.raise_if_any("checked out", result=result)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loom.errors import (
    ConflictError,
    CorruptObjectError,
    LoomError,
    MissingObjectError,
    PointerError,
)

# The class raised for a mix: the problem a user must look at first.
_RANK: tuple[type[LoomError], ...] = (
    CorruptObjectError,
    PointerError,
    ConflictError,
    MissingObjectError,
)
_SHOWN = 10


@dataclass
class Problems:
    items: list[tuple[str, LoomError]] = field(default_factory=list)

    def add(self, path: str, exc: LoomError) -> None:
        self.items.append((path, exc))

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def paths(self) -> list[str]:
        return list(dict.fromkeys(path for path, _ in self.items))

    def merge(self, other: Problems) -> None:
        """Add ``other``'s problems for paths not reported yet (the first report stays)."""
        seen = set(self.paths)
        self.items.extend((p, e) for p, e in other.items if p not in seen)

    def raise_if_any(self, what: str, **fields: Any) -> None:
        if not self.items:
            return
        ranked = sorted(self.items, key=lambda item: _rank(item[1]))
        lines = [_line(path, exc) for path, exc in ranked[:_SHOWN]]
        if len(ranked) > _SHOWN:
            lines.append(f"… and {len(ranked) - _SHOWN} more")
        hints = list(dict.fromkeys(exc.hint for _, exc in ranked if exc.hint))
        n = len(self.paths)
        cls = type(ranked[0][1])
        raise cls(
            f"{n} path(s) could not be {what} (everything else was):\n  " + "\n  ".join(lines),
            hint=" ".join(hints[:3]) or None,
            paths=self.paths,
            oids=sorted({o for _, e in self.items if (o := e.fields.get("oid"))}),
            errors=[e for _, e in self.items],
            **fields,
        )


def _rank(exc: LoomError) -> int:
    for i, cls in enumerate(_RANK):
        if isinstance(exc, cls):
            return i
    return len(_RANK)


def _line(path: str, exc: LoomError) -> str:
    first = exc.message.splitlines()[0] if exc.message else type(exc).__name__
    return first if path in first else f"{path}: {first}"
