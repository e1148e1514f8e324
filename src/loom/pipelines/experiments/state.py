"""What a pipeline's folder holds after a repro: what an experiment run records.

Params are every param the chosen stages read, as their stage runs log them
(dotted keys, values as text). Metrics are the numbers of their metrics files;
a key found in two files is named ``file:key`` (``eval/val.json:acc``). The
data versions come from ``loom.lock``: ``deps`` are the inputs no stage makes
(raw data, code), ``outs`` what the stages made.

    >>> state = read(ws.root)                     # doctest: +SKIP
    >>> state.metrics                             # doctest: +SKIP
    {'loss': 0.99, 'eval/val.json:score': 25, 'eval/test.json:score': 26}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loom.errors import LoomError
from loom.pipelines import lock, stage_metrics
from loom.pipelines.dag import Dag, build
from loom.pipelines.lock import Entry
from loom.pipelines.params import ParamFiles
from loom.pipelines.record import DEFAULT_EXPERIMENT, params_text
from loom.pipelines.spec import disk_reader, load


@dataclass
class State:
    experiment: str = DEFAULT_EXPERIMENT  # the tracking experiment the stages log to
    stages: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    deps: list[Entry] = field(default_factory=list)
    outs: list[Entry] = field(default_factory=list)
    lock_text: str | None = None


def experiment_of(root: Path) -> str:
    """The tracking experiment of ``root``'s pipeline (``experiment:`` in loom.yaml)."""
    try:
        return load(root).experiment or DEFAULT_EXPERIMENT
    except LoomError:
        return DEFAULT_EXPERIMENT


def read(root: Path, stages: Sequence[str] | None = None) -> State:
    """The state of ``root`` for ``stages`` (default: all). Best effort: a pipeline that
    can't even be loaded (the experiment failed for it) gives what could be read."""
    state = State()
    try:
        pipeline = load(root)
        dag = build(pipeline)
    except LoomError:
        state.lock_text = _lock_text(root)
        return state
    state.experiment = pipeline.experiment or DEFAULT_EXPERIMENT
    state.stages = list(stages) if stages else dag.order()
    state.params = _params(root, dag, state.stages)
    state.metrics = _metrics(root, dag, state.stages)
    state.lock_text = _lock_text(root)
    try:
        locked = lock.read(root)
    except LoomError:
        return state
    state.deps, state.outs = _versions(dag, locked, state.stages)
    return state


def _params(root: Path, dag: Dag, stages: Sequence[str]) -> dict[str, str]:
    files = ParamFiles(disk_reader(root))
    merged: dict[str, dict[str, Any]] = {}
    for name in stages:
        try:
            values = files.values(dag.stages[name])
        except LoomError:
            continue  # a key the stage reads is gone: its run failed for that reason
        for file, keys in values.items():
            merged.setdefault(file, {}).update(keys)
    return params_text(merged)


def _metrics(root: Path, dag: Dag, stages: Sequence[str]) -> dict[str, float]:
    by_file: dict[str, dict[str, float]] = {}
    for name in stages:
        for out in dag.stages[name].metrics:
            try:
                by_file[out.path] = stage_metrics.read(root / out.path, out.path)
            except LoomError:
                continue  # not parseable: the stage's own run says so
    seen: dict[str, int] = {}
    for values in by_file.values():
        for key in values:
            seen[key] = seen.get(key, 0) + 1
    return {
        (key if seen[key] == 1 else f"{file}:{key}"): value
        for file, values in by_file.items()
        for key, value in values.items()
    }


def _versions(
    dag: Dag, locked: dict[str, lock.StageLock], stages: Sequence[str]
) -> tuple[list[Entry], list[Entry]]:
    deps: dict[str, Entry] = {}
    outs: dict[str, Entry] = {}
    for name in stages:
        entry = locked.get(name)
        if entry is None:
            continue
        for d in entry.deps:
            if not dag.producers_of(d.path):
                deps.setdefault(d.path, d)
        for o in entry.outs:
            outs[o.path] = o
    return list(deps.values()), list(outs.values())


def _lock_text(root: Path) -> str | None:
    try:
        return (root / lock.FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
