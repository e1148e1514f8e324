"""Runs side by side, and a run's environment told apart from its own tags.

The CLI, the server and the UI show the same comparison: one row per
attribute, param, metric and user tag, with a value per run (None where a
run lacks the key) and whether the values differ.

    >>> rows = compare_runs([run_a, run_b])  # doctest: +SKIP
    >>> [(r.key, r.differs) for r in rows if r.section == "params"]  # doctest: +SKIP
    [('params.lr', True), ('params.epochs', False)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from loom.store.entities import Run

# Tags Loom and MLflow record about where and how a run ran, not the user's own.
ENV_PREFIXES = ("loom.", "mlflow.")

Value = str | int | float | None


def split_tags(tags: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """``(user tags, environment tags)``: ``loom.*`` and ``mlflow.*`` are the environment.

    >>> split_tags({"team": "search", "loom.host": "gpu1"})
    ({'team': 'search'}, {'loom.host': 'gpu1'})
    """
    user: dict[str, str] = {}
    env: dict[str, str] = {}
    for k, v in tags.items():
        (env if k.startswith(ENV_PREFIXES) else user)[k] = v
    return user, env


@dataclass(frozen=True)
class Row:
    """One compared key: ``section`` is attributes, params, metrics or tags."""

    key: str
    section: str
    values: tuple[Value, ...]
    differs: bool


def compare_runs(runs: Sequence[Run]) -> list[Row]:
    """Attributes (name, status, start time and duration in ms), then params, metrics
    and user tags by key; NaN equals NaN here (a run that diverged both times is the same)."""
    rows = [
        row("name", "attributes", [r.name for r in runs]),
        row("status", "attributes", [str(r.status) for r in runs]),
        row("started", "attributes", [r.start_time for r in runs]),
        row("duration", "attributes", [_duration(r) for r in runs]),
    ]
    sections: list[tuple[str, list[Mapping[str, Value]]]] = [
        ("params", [r.params for r in runs]),
        ("metrics", [r.metrics for r in runs]),
        ("tags", [split_tags(r.tags)[0] for r in runs]),
    ]
    for section, maps in sections:
        for key in sorted({k for m in maps for k in m}):
            rows.append(row(f"{section}.{key}", section, [m.get(key) for m in maps]))
    return rows


def _duration(run: Run) -> int | None:
    return run.end_time - run.start_time if run.end_time is not None else None


def row(key: str, section: str, values: Sequence[Value]) -> Row:
    """One compared key; ``differs`` when any two values differ (NaN equals NaN)."""
    return Row(key, section, tuple(values), len({_comparable(v) for v in values}) > 1)


_NAN = object()


def _comparable(v: Value) -> object:
    # NaN != NaN, so a set holds every NaN apart: give them one shared stand-in
    return _NAN if isinstance(v, float) and math.isnan(v) else v
