"""Experiment runs in the tracking store: created before the pipeline runs, ended after it.

>>> s = Start("pipelines", "brisk-oars", head, base, ["params.yaml:train.lr=0.1"])
>>> run_id = start(client, s)                                     # doctest: +SKIP
>>> finish(client, run_id, state.read(root), "FINISHED")          # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from loom.entities import RunInput
from loom.errors import AlreadyExistsError, LoomError, NotFoundError, warn
from loom.pipelines.experiments import (
    BASE_TAG,
    COMMIT_TAG,
    ERROR_TAG,
    EXP_TAG,
    LOCK_ARTIFACT,
    OVERRIDES_TAG,
    TARGETS_TAG,
)
from loom.pipelines.experiments.state import State

_MAX_RUNS = 5000  # exp show reads at most this many experiments


@dataclass(frozen=True)
class Start:
    experiment: str  # the tracking experiment
    name: str
    head: str  # HEAD when the experiment was made
    base: str  # HEAD plus uncommitted changes (the code it ran)
    overrides: Sequence[str] = ()
    targets: Sequence[str] = ()
    run_id: str | None = None
    extra_tags: dict[str, str] = field(default_factory=dict)
    exp: bool = True  # an experiment (exp show lists it); False: a reproduction


def start(client: Any, s: Start) -> str:
    """Create the experiment's run, RUNNING; returns its id."""
    tags = {
        COMMIT_TAG: s.head,
        "mlflow.source.git.commit": s.head,
        BASE_TAG: s.base,
        OVERRIDES_TAG: json.dumps(list(s.overrides)),
        **s.extra_tags,
    }
    if s.exp:
        tags[EXP_TAG] = "1"
    if s.targets:
        tags[TARGETS_TAG] = json.dumps(list(s.targets))
    exp_id = client.get_or_create_experiment(s.experiment).experiment_id
    run = client.create_run(exp_id, name=s.name, tags=tags, capture_env=False, run_id=s.run_id)
    return str(run.run_id)


def finish(client: Any, run_id: str, state: State, status: str, error: str | None = None) -> None:
    """Log what the pipeline's folder holds and end the run with ``status`` (``error``:
    why it failed, as a tag). A write that fails is said as a warning: the experiment's
    outs are in place either way."""
    try:
        if error:
            client.set_tag(run_id, ERROR_TAG, error[:5000])
        if state.params:
            client.log_params(run_id, state.params)
        if state.metrics:
            client.log_metrics(run_id, state.metrics)
        if state.deps:
            client.log_inputs(run_id, [_input(d) for d in state.deps])
        if state.lock_text:
            client.log_text(run_id, state.lock_text, LOCK_ARTIFACT)
    except LoomError as exc:
        warn(
            f"Not everything of experiment run {run_id} could be recorded: {exc.message}",
            hint=exc.hint,
        )
    client.set_terminated(run_id, status)


def _input(entry: Any) -> RunInput:
    kind = "directory" if entry.kind == "dir" else "file"
    return RunInput(entry.path, entry.hash, entry.size, kind)


def experiment_runs(client: Any, experiment: str) -> list[Any]:
    """The experiment runs of ``experiment``, newest first."""
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    page = client.search_runs(
        [found.experiment_id],
        f"tags.`{EXP_TAG}` = '1'",
        order_by=["attributes.start_time DESC"],
        max_results=_MAX_RUNS,
    )
    return list(page.items)


def check_name_free(client: Any, experiment: str, name: str, queued: Sequence[str]) -> None:
    taken = name in queued or any(r.name == name for r in experiment_runs(client, experiment))
    if taken:
        raise AlreadyExistsError(
            f"An experiment named {name!r} exists already.",
            hint="Choose another --name, or leave it out for a generated one; "
            "`loom exp show` lists the names.",
            name=name,
        )


def find(client: Any, experiment: str, ref: str) -> Any:
    """A run by id (or unique prefix), else the newest experiment named ``ref``."""
    try:
        return client.get_run(client.resolve_run_id(ref))
    except NotFoundError as not_an_id:
        named = [r for r in experiment_runs(client, experiment) if r.name == ref]
        if named:
            return named[0]
        raise NotFoundError(
            f"No run with id {ref!r}, and no experiment named so.",
            hint="`loom exp show` lists experiments, `loom runs list` runs (with their ids).",
            run_id=ref,
        ) from not_an_id
