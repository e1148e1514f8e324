"""The seeds' question: which version held an alias at a time, with its metrics, run,
git commit and the data versions it was trained on — one answer, one call.

    >>> a = version_at(client, "rag", "production", parse_time("2026-03-15"))  # doctest: +SKIP
    >>> a.version.version, a.metrics["recall_at_10"], a.git_commit            # doctest: +SKIP
    (3, 0.92, '4f5e6a7…')
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from typing import Any

from loom.entities import AliasEvent, ModelVersion, Run, RunInput
from loom.errors import NotFoundError
from loom.lineage.walk import git_commit
from loom.timeparse import format_time
from loom.tracking.client import Client


@dataclass(frozen=True)
class AliasAnswer:
    """What held ``alias`` of ``name`` at ``at`` (ms), and what made it."""

    name: str
    alias: str
    at: int
    version: ModelVersion
    event: AliasEvent | None  # the move in force then: when, by whom, why
    run: Run | None = None
    metrics: dict[str, float] = field(default_factory=dict)  # all, or the one asked for
    inputs: tuple[RunInput, ...] = ()  # the data versions the run read

    @property
    def git_commit(self) -> str | None:
        return git_commit(self.run) if self.run is not None else None

    @property
    def git_dirty(self) -> bool | None:
        dirty = self.run.tags.get("loom.git.dirty") if self.run is not None else None
        return None if dirty is None else dirty == "true"

    def to_dict(self) -> dict[str, Any]:
        run = self.run
        return {
            "name": self.name,
            "alias": self.alias,
            "at": self.at,
            "version": self.version.version,
            "semver": self.version.semver,
            "tree": self.version.tree,
            "source": self.version.source,
            "since": asdict(self.event) if self.event is not None else None,
            "run_id": self.version.run_id,
            "run_name": run.name if run is not None else None,
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "metrics": dict(self.metrics),
            "inputs": [asdict(i) for i in self.inputs],
        }


def version_at(
    client: Client, name: str, alias: str, time_ms: int, metric: str | None = None
) -> AliasAnswer:
    """The answer at ``time_ms``; NotFoundError when no version held the alias then,
    saying when it was first set (or that it had been removed)."""
    mv = client.get_model_version_at(name, alias, time_ms)  # unknown model/alias: raises
    if mv is None:
        raise _held_by_none(client, name, alias, time_ms)
    event = client.alias_event_at(name, alias, time_ms)
    run = run_of(client, mv)
    metrics = dict(sorted(run.metrics.items())) if run is not None else {}
    if metric is not None:
        metrics = {metric: _metric(mv, run, metric)}
    inputs = run.inputs if run is not None else ()
    return AliasAnswer(name, alias, time_ms, mv, event, run, metrics, inputs)


def run_of(client: Client, mv: ModelVersion) -> Run | None:
    if mv.run_id is None:
        return None
    try:
        return client.get_run(mv.run_id)
    except NotFoundError:
        return None  # registered from a run this store does not hold


def _metric(mv: ModelVersion, run: Run | None, key: str) -> float:
    if run is not None and key in run.metrics:
        return run.metrics[key]
    have = ", ".join(sorted(run.metrics)) if run is not None and run.metrics else "none"
    where = f"its run {run.run_id}" if run is not None else "it has no run, so it"
    raise NotFoundError(
        f"Version {mv.version} of {mv.name!r} held the alias, but {where} has no metric "
        f"{key!r}. Its metrics: {have}.",
        hint="Leave out --metric to see them all.",
        name=mv.name,
        version=mv.version,
        metric=key,
    )


def _held_by_none(client: Client, name: str, alias: str, time_ms: int) -> NotFoundError:
    # the error path only: the whole history of one alias is fine to read here
    history = client.get_alias_history(name, alias)
    first = history[0]
    when = format_time(time_ms)
    said = f"it was first set at {format_time(first.time)} (to version {first.to_version})"
    if time_ms >= first.time:
        removed = [e for e in history if e.time <= time_ms][-1]
        said = f"it had been removed at {format_time(removed.time)}; {said}"
    return NotFoundError(
        f"No version of {name!r} held {alias!r} at {when}: {said}.",
        hint=f"See every move: loom models history {shlex.quote(name)} --alias {alias}",
        name=name,
        alias=alias,
        time=time_ms,
        first_set=first.time,
    )
