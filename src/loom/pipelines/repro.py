"""``loom repro``: bring the stages up to date, independent ones side by side (``jobs``).

    >>> result = repro(ws, ["train"], jobs=4)                  # doctest: +SKIP
    >>> [(s.name, s.action) for s in result.stages]           # doctest: +SKIP
    [('prepare', 'skipped'), ('train', 'ran')]

Everything that can be refused (``loom.yaml``, the graph, params, missing deps)
is refused before any command starts. When every stage is up to date, that is
said without loading the scheduler, the outs' machinery or tracking (a no-op
costs the stats of the deps and outs); otherwise ``loom.pipelines.scheduler``
runs them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loom.data.listing import Listings
from loom.data.workspace import Workspace
from loom.errors import LoomError
from loom.pipelines import lock, noop
from loom.pipelines.dag import Dag, build
from loom.pipelines.executor import Console, Executor
from loom.pipelines.noop import Seen
from loom.pipelines.params import ParamFiles
from loom.pipelines.plan import RESTORE, RUN, SKIP, Decision, Planner
from loom.pipelines.runcache import RunCache
from loom.pipelines.spec import Reader, disk_reader, load
from loom.pipelines.versions import Versions

# what happened to each stage, as ReproResult reports it
RAN, SKIPPED, RESTORED, FAILED, KILLED, WOULD_RUN = (
    "ran",
    "skipped",
    "restored",
    "failed",
    "killed",
    "would run",
)


@dataclass
class StageResult:
    name: str
    action: str
    reason: str
    run_id: str | None = None
    status: int | None = None  # the command's exit status
    seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"stage": self.name, "action": self.action, "reason": self.reason}
        for key in ("run_id", "status", "seconds"):
            value = getattr(self, key)
            if value is not None:
                out[key] = round(value, 3) if key == "seconds" else value
        return out


@dataclass
class ReproResult:
    stages: list[StageResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"stages": [s.as_dict() for s in self.stages]}


class StageFailed(LoomError):
    """A stage's command failed (or it did not write its outs); the pipeline stopped."""

    code = "STAGE_FAILED"


class Terminated(SystemExit):
    """SIGTERM during ``loom repro``, after the stages were stopped (exit status 143)."""


def repro(
    ws: Workspace,
    targets: Sequence[str] = (),
    *,
    force: bool = False,
    dry_run: bool = False,
    downstream: bool = False,
    single_item: bool = False,
    jobs: int = 1,
    console: Console | None = None,
    executor: Executor | None = None,
    parent_run: str | None = None,
    listings: Listings | None = None,
) -> ReproResult:
    """Run what is out of date among ``targets`` (default: every stage) and what they need
    (``single_item``: the targets alone). ``parent_run``: the stages' runs nest under it.

    ``listings``: folder listings already under way (the CLI starts them before importing
    this module); Versions starts its own otherwise."""
    seen = Seen()  # what the plan reads: a no-op remembers it (loom.pipelines.noop)
    read = _recording(disk_reader(ws.root), ws.root, seen)
    pipeline = load(ws.root, read=read)
    dag = build(pipeline)
    selected = dag.select(targets, downstream=downstream, single_item=single_item)
    console = console or Console(prefix=jobs > 1)
    every = not (targets or force or downstream or single_item or parent_run)
    with Versions(ws, listings, seen) as versions:
        seen.file(lock.FILE, _stat(ws.root / lock.FILE))
        planner = Planner(
            dag,
            lock.read(ws.root),
            versions,
            ParamFiles(read),
            RunCache(ws, fetch=not dry_run),
            force=force,
        )
        planner.check(selected)
        decisions = plan_all(planner, dag, selected)
        if dry_run:
            return _dry_run(decisions)
        if all(d.action == SKIP for d in decisions):
            # nothing to run: answered without loading the scheduler, outs or tracking
            result = ReproResult([StageResult(d.name, SKIPPED, d.reason) for d in decisions])
            if every:
                noop.remember(ws.tmp, seen, result.as_dict())
            return result
        noop.forget(ws.tmp)
        from loom.pipelines.outputs import check_ours
        from loom.pipelines.scheduler import Scheduler, only_repro

        check_ours(ws, [dag.stages[d.name] for d in decisions if d.action != SKIP])
        with only_repro(ws):
            run = Scheduler(ws, pipeline, dag, planner, console, executor, max(1, jobs), parent_run)
            return run.all(selected)


def _recording(read: Reader, root: Path, seen: Seen) -> Reader:
    """``read``, noting each file's stat first: what the plan decided on is never newer
    than what the memo says it was."""

    def recorded(rel: str) -> bytes | None:
        seen.file(rel, _stat(root / rel))
        return read(rel)

    return recorded


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def plan_all(planner: Planner, dag: Dag, names: Sequence[str]) -> list[Decision]:
    """What would happen to each stage (dry-run, ``loom status``): a stage after one that
    runs is said to run too, since what its deps will hold can't be known yet."""
    out: list[Decision] = []
    runs: set[str] = set()
    for name in names:
        first = next((u for u in dag.order(dag.upstream[name]) if u in runs), None)
        decision = planner.decide(name, upstream_runs=first)
        if decision.action != SKIP:
            runs.add(name)
        out.append(decision)
    return out


def _dry_run(decisions: list[Decision]) -> ReproResult:
    result = ReproResult()
    for d in decisions:
        action = {RUN: WOULD_RUN, RESTORE: "would restore", SKIP: SKIPPED}[d.action]
        result.stages.append(StageResult(d.name, action, d.reason))
    return result
