"""Two sets of flattened values side by side: what ``params diff`` and ``metrics diff`` show.

    >>> [c.delta for c in changes({"m.json": {"auc": 0.5}}, {"m.json": {"auc": 0.75}})]
    [0.25]

A value is unchanged only when it is the same value of the same type: ``1``,
``1.0``, ``true`` and ``"1"`` all differ (a type change is a change), and NaN
equals NaN (a metric that stays NaN has not changed).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loom.pipelines.revfiles import Rev


class _Missing:
    """The value of a key absent at one side (its file missing, or the key not in it)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Change:
    """One key of one file at two revisions; ``old``/``new`` may be ``MISSING``."""

    path: str
    key: str
    old: Any
    new: Any

    @property
    def changed(self) -> bool:
        return _canonical(self.old) != _canonical(self.new)

    @property
    def delta(self) -> float | int | None:
        """``new - old`` when both are finite numbers (not booleans), else None.

        Computed on the numbers as written (``0.85 - 0.8`` is ``0.05``, not binary
        floating point's ``0.04999999999999993``).
        """
        if not (_number(self.old) and _number(self.new)):
            return None
        if isinstance(self.old, int) and isinstance(self.new, int):
            return self.new - self.old
        return float(Decimal(repr(self.new)) - Decimal(repr(self.old)))

    def to_dict(self) -> dict[str, Any]:
        """DVC's ``--json`` shape: ``{"old": …, "new": …, "diff": …}``; a missing side is null
        (and ``status`` says which side, since a value may itself be null)."""
        out = {
            "old": None if self.old is MISSING else self.old,
            "new": None if self.new is MISSING else self.new,
        }
        if self.delta is not None:
            out["diff"] = self.delta
        out["status"] = self.status
        return out

    @property
    def status(self) -> str:
        if self.old is MISSING and self.new is not MISSING:
            return "added"
        if self.new is MISSING and self.old is not MISSING:
            return "deleted"
        return "modified" if self.changed else "unchanged"


@dataclass(frozen=True)
class Diff:
    """What changed from revision ``old`` to ``new``."""

    old: Rev
    new: Rev
    changes: list[Change]

    def to_dict(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{file: {key: {"old", "new", "diff", "status"}}}`` (DVC's ``--json`` shape)."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for c in self.changes:
            out.setdefault(c.path, {})[c.key] = c.to_dict()
        return out


def changes(
    old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], *, unchanged: bool = False
) -> list[Change]:
    """Every key of every file in ``old`` or ``new`` (``{file: {key: value}}``), in file
    order then key order; unchanged keys only when ``unchanged``."""
    out = []
    for path in dict.fromkeys([*old, *new]):
        a, b = old.get(path, {}), new.get(path, {})
        for key in dict.fromkeys([*a, *b]):
            change = Change(path, key, a.get(key, MISSING), b.get(key, MISSING))
            if unchanged or change.changed:
                out.append(change)
    return out


def _number(v: Any) -> bool:
    if isinstance(v, float):
        return math.isfinite(v)
    return isinstance(v, int) and not isinstance(v, bool)


def _canonical(v: Any) -> str:
    """One string per (type, value): JSON with the type named for numbers and strings."""
    if v is MISSING:
        return "\0missing"
    if isinstance(v, float) and math.isnan(v):
        return "float:nan"
    return f"{type(v).__name__}:{json.dumps(v, sort_keys=True, default=str)}"
