"""A stage's metrics files as flat ``{dotted.key: number}``: what its run logs as metrics.

Parsed the way ``loom metrics show`` parses them (``loom.pipelines.formats``), so
a file means the same thing to both; only numbers are kept (booleans are not).

    >>> numbers({"eval": {"acc": 0.9, "n": 10}, "name": "x", "ok": True})
    {'eval.acc': 0.9, 'eval.n': 10}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loom.pipelines.formats import flatten, parse


def read(path: Path, shown: str) -> dict[str, float]:
    """The numbers in the metrics file ``path`` (``shown`` in errors); {} when it is absent."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    return numbers(parse(data, shown, "in the workspace"))


def numbers(doc: Mapping[str, Any]) -> dict[str, float]:
    return {
        k: v
        for k, v in flatten(doc).items()
        if isinstance(v, int | float) and not isinstance(v, bool)  # NaN and inf too
    }
