"""``loom exp run``: set params, run the pipeline in the workspace, record it as an experiment;
or, with ``--queue``, only record what to run later.

As with DVC, the workspace is left with the experiment's params and outs; the
run cache makes switching a param back a restore, not a rerun.

    >>> result = run_in_workspace(ws, ["train.lr=0.02"])        # doctest: +SKIP
    >>> result.status, result.metrics["loss"]                   # doctest: +SKIP
    ('FINISHED', 0.98)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from loom.data.workspace import Workspace
from loom.errors import LoomError
from loom.pipelines import gitwork, overrides
from loom.pipelines.dag import build
from loom.pipelines.executor import Console
from loom.pipelines.experiments import queue, state, tracked
from loom.pipelines.record import DEFAULT_EXPERIMENT
from loom.pipelines.repro import ReproResult, StageFailed, repro
from loom.pipelines.spec import load


@dataclass
class ExpResult:
    name: str
    status: str  # FINISHED, FAILED, KILLED or QUEUED
    run_id: str | None = None
    overrides: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    stages: ReproResult | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "status": self.status,
            "run_id": self.run_id,
            "overrides": self.overrides,
            "params": self.params,
            "metrics": self.metrics,
        }
        if self.stages is not None:
            out["stages"] = self.stages.as_dict()["stages"]
        if self.error:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class Plan:
    """What every experiment starts from, checked before anything changes."""

    overrides: list[overrides.Override]
    experiment: str
    head: str
    base: str

    @property
    def texts(self) -> list[str]:
        return [str(o) for o in self.overrides]


def plan(ws: Workspace, set_params: Sequence[str], targets: Sequence[str] = ()) -> Plan:
    """Refuse a bad ``-S``, a wrong loom.yaml or unknown targets, and no git, before
    anything changes; then snapshot the workspace's code (``loom.exp.base``)."""
    found = overrides.parse(set_params)
    overrides.check(ws.root, found)
    pipeline = load(ws.root)
    build(pipeline).select(targets)
    gitwork.repo_prefix(ws.root)
    experiment = pipeline.experiment or DEFAULT_EXPERIMENT
    return Plan(found, experiment, gitwork.head(ws.root), gitwork.snapshot(ws.root))


def run_in_workspace(
    ws: Workspace,
    set_params: Sequence[str],
    *,
    name: str | None = None,
    targets: Sequence[str] = (),
    jobs: int = 1,
    console: Console | None = None,
) -> ExpResult:
    """Run one experiment here. A failing stage is recorded FAILED and its StageFailed
    raised (with ``fields["experiment"]``); Ctrl-C records it KILLED."""
    from loom.tracking.client import Client

    p = plan(ws, set_params, targets)
    console = console or Console(prefix=jobs > 1)
    with Client() as client:
        name = name_for(client, ws, p.experiment, name)
        start = tracked.Start(p.experiment, name, p.head, p.base, p.texts, targets)
        run_id = tracked.start(client, start)
        gitwork.keep(ws.root, f"{gitwork.REFS}/runs/{run_id}", p.base)
        result = ExpResult(name, "RUNNING", run_id, p.texts)
        console.say(f"Experiment {name} (run {run_id[:8]})" + _said(p.texts) + ".")
        try:
            overrides.apply(ws.root, p.overrides)
            result.stages = repro(ws, targets, jobs=jobs, console=console, parent_run=run_id)
            result.status = "FINISHED"
        except LoomError as exc:
            result.status, result.error = "FAILED", exc.message
            _end(client, ws, result)
            if isinstance(exc, StageFailed):
                result.stages = exc.fields.get("result")
            exc.fields["experiment"] = result
            raise
        except BaseException:  # Ctrl-C, SIGTERM: the stages were stopped
            result.status = "KILLED"
            _end(client, ws, result)
            raise
        _end(client, ws, result)
    return result


def _end(client: Any, ws: Workspace, result: ExpResult) -> None:
    assert result.run_id is not None
    found = state.read(ws.root)
    tracked.finish(client, result.run_id, found, result.status, result.error)
    result.params, result.metrics = found.params, found.metrics


def _said(texts: Sequence[str]) -> str:
    return (": " + ", ".join(texts)) if texts else ""


def name_for(client: Any, ws: Workspace, experiment: str, name: str | None) -> str:
    """``name`` checked to be unused, or a fresh generated one."""
    from loom.tracking.client import new_run_name

    queued = [q.name for q in queue.entries(ws)]
    if name is not None:
        tracked.check_name_free(client, experiment, name, queued)
        return name
    used = set(queued) | {r.name for r in tracked.experiment_runs(client, experiment)}
    while (fresh := new_run_name()) in used:
        pass
    return fresh


def enqueue(
    ws: Workspace, set_params: Sequence[str], *, name: str | None = None, targets=()
) -> ExpResult:
    """Record an experiment to run later (``loom exp run --run-all``); nothing runs."""
    import uuid

    from loom.tracking.client import Client

    p = plan(ws, set_params, targets)
    with Client() as client:
        name = name_for(client, ws, p.experiment, name)
    q = queue.Queued(uuid.uuid4().hex, name, p.texts, p.base, p.head, list(targets))
    queue.add(ws, q)
    return ExpResult(name, queue.QUEUED, q.id, p.texts)
