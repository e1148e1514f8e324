"""``loom exp show``: the experiments, queued and run, newest first, with what tells them apart.

A table shows the params that differ between experiments (and those an
experiment set with ``-S``), every metric, and the data versions (deps' hashes)
that differ; ``--all-params`` shows every param and dep; JSON has everything.

    >>> table = show(ws)                                  # doctest: +SKIP
    >>> [r.name for r in table.rows], table.params         # doctest: +SKIP
    (['lr-002', 'lr-001'], ['train.lr'])
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from loom.data.workspace import Workspace
from loom.pipelines.experiments import (
    BASE_TAG,
    COMMIT_TAG,
    ERROR_TAG,
    OVERRIDES_TAG,
    queue,
    state,
    tracked,
)


@dataclass
class Row:
    name: str
    status: str
    created: int  # ms since the epoch
    run_id: str | None
    commit: str | None  # HEAD when it was made
    base: str | None  # the commit of its code (HEAD plus uncommitted changes)
    overrides: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    deps: dict[str, str] = field(default_factory=dict)  # path -> hash
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Table:
    rows: list[Row]
    params: list[str]  # the columns to show
    metrics: list[str]
    deps: list[str]


def show(ws: Workspace, *, all_params: bool = False) -> Table:
    from loom.tracking.client import Client

    experiment = state.experiment_of(ws.root)
    rows = [_queued(q) for q in queue.entries(ws)]
    with Client() as client:
        rows += [_ran(r) for r in tracked.experiment_runs(client, experiment)]
    rows.sort(key=lambda r: r.created, reverse=True)
    set_keys = {o.partition("=")[0].rpartition(":")[2] for r in rows for o in r.overrides}
    return Table(
        rows,
        params=_columns([r.params for r in rows], all_params, set_keys),
        metrics=sorted({k for r in rows for k in r.metrics}),
        deps=_columns([r.deps for r in rows], all_params),
    )


def _queued(q: queue.Queued) -> Row:
    params = {}
    for text in q.overrides:
        target, _, value = text.partition("=")
        params[target.rpartition(":")[2]] = value
    return Row(q.name, queue.QUEUED, q.created, q.id, q.head, q.base, list(q.overrides), params)


def _ran(run: Any) -> Row:
    try:
        overrides = json.loads(run.tags.get(OVERRIDES_TAG) or "[]")
    except ValueError:
        overrides = []
    return Row(
        name=run.name,
        status=str(run.status),
        created=run.start_time,
        run_id=run.run_id,
        commit=run.tags.get(COMMIT_TAG),
        base=run.tags.get(BASE_TAG),
        overrides=list(overrides),
        params=dict(run.params),
        metrics=dict(run.metrics),
        deps={i.path: i.hash for i in run.inputs},
        error=run.tags.get(ERROR_TAG),
    )


def _columns(
    values: list[dict[str, str]], everything: bool, always: set[str] | None = None
) -> list[str]:
    """Keys whose values differ between the rows that have them (all with ``everything``),
    and the ``always`` ones, in first-seen order."""
    keys = list(dict.fromkeys(k for v in values for k in v))
    if everything:
        return keys
    always = always or set()
    return [k for k in keys if k in always or len({v[k] for v in values if k in v}) > 1]
