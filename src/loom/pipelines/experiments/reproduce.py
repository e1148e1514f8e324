"""``loom reproduce RUN``: rebuild a run from its commit, data versions and params; compare metrics.

The run's code is its commit (an experiment's ``loom.exp.base``, which holds
the uncommitted changes it ran with; for a stage run of an experiment, the
experiment's), checked out in a temporary git worktree that shares the cache
and the tracking store (``worktree``). Its data versions (an experiment's
logged ``loom.lock``, else the run's inputs) are placed there from the cache or
the default remote, its params set, and ``loom repro --force`` runs there: the
stage alone for a stage run, the pipeline for an experiment or another run.
The rebuild is a new run tagged ``loom.reproduces``; its metrics are compared
with the old run's. The worktree is removed at the end, Ctrl-C included.

    >>> r = reproduce(ws, "3f2a9c1e")                         # doctest: +SKIP
    >>> [(m.key, m.was, m.now, m.status) for m in r.metrics]   # doctest: +SKIP
    [('loss', 0.99, 0.99, 'same')]
"""

from __future__ import annotations

import math
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loom.data.workspace import Workspace
from loom.errors import LoomError, NotFoundError, UsageError
from loom.pipelines import gitwork, lock
from loom.pipelines.executor import Console, Job, LocalExecutor, Outcome
from loom.pipelines.experiments import (
    BASE_TAG,
    COMMIT_TAG,
    EXP_TAG,
    LOCK_ARTIFACT,
    REPRODUCES_TAG,
    TARGETS_TAG,
    state,
    tracked,
)
from loom.pipelines.experiments.restore import restore_versions, set_params
from loom.pipelines.experiments.worktree import Worktree, loom_command
from loom.pipelines.lock import Entry
from loom.pipelines.record import PARENT_TAG
from loom.pipelines.spec import FILE, load

STAGE_TAG = "loom.stage"


class ReproduceFailed(LoomError):
    """The pipeline failed when run again at the run's commit."""

    code = "REPRODUCE_FAILED"


class MetricsDiffer(LoomError):
    """``--check``: a metric of the rebuild differs from the run's, or is gone."""

    code = "METRICS_DIFFER"


@dataclass(frozen=True)
class MetricChange:
    key: str
    was: float | None
    now: float | None
    status: str  # same, changed, missing (gone in the rebuild), new

    @property
    def diff(self) -> float | None:
        return None if self.was is None or self.now is None else self.now - self.was


@dataclass
class Reproduction:
    run_id: str
    name: str
    kind: str  # experiment, stage or run
    commit: str
    new_run_id: str | None = None
    status: str = "RUNNING"
    metrics: list[MetricChange] = field(default_factory=list)
    worktree: str | None = None  # kept (--keep)
    unplaced_params: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return all(m.status in ("same", "new") for m in self.metrics)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "name": self.name,
            "kind": self.kind,
            "commit": self.commit,
            "new_run_id": self.new_run_id,
            "status": self.status,
            "same": self.same,
            "metrics": [{**vars(m), "diff": m.diff} for m in self.metrics],
            "worktree": self.worktree,
            "unplaced_params": self.unplaced_params,
        }


def reproduce(
    ws: Workspace,
    ref: str,
    *,
    keep: bool = False,
    tolerance: float = 0.0,
    console: Console | None = None,
) -> Reproduction:
    """Rebuild run ``ref`` (an id, a unique prefix or an experiment's name); see the module
    doc. ReproduceFailed when the pipeline fails there (the new run is FAILED)."""
    from loom.tracking.client import Client

    gitwork.repo_prefix(ws.root)
    console = console or Console(prefix=False)
    with Client() as client:
        run = tracked.find(client, state.experiment_of(ws.root), ref)
        r = Reproduction(run.run_id, run.name, _kind(run), _commit(client, ws, run))
        path = ws.tmp / "reproduce" / f"{run.run_id[:8]}-{uuid.uuid4().hex[:6]}"
        with Worktree(ws, r.commit, path, keep=keep) as wt:
            if keep:
                r.worktree = str(wt.ws.root)
            console.say(
                f"Reproducing {r.kind} run {run.name} ({run.run_id[:8]}) at commit "
                f"{r.commit[:7]} in {path}."
            )
            stage = _prepare(client, ws, wt, run, r)
            outcome = _rerun(client, wt, run, r, stage, console)
        new = _counterpart(client, r, stage)
        r.metrics = compare(run.metrics, new.metrics if new is not None else {}, tolerance)
    if not outcome.ok:
        raise ReproduceFailed(
            f"Run {run.run_id[:8]} could not be rebuilt: the pipeline failed at commit "
            f"{r.commit[:7]} (its new run {r.new_run_id} is FAILED).",
            hint=f"`loom runs show {r.new_run_id}` and its stage runs keep the output; "
            "`loom reproduce --keep` leaves the worktree to look into.",
            reproduction=r,
        )
    return r


def _kind(run: Any) -> str:
    if run.tags.get(EXP_TAG):
        return "experiment"
    return "stage" if run.tags.get(STAGE_TAG) else "run"


def _commit(client: Any, ws: Workspace, run: Any) -> str:
    """The commit holding the code ``run`` ran: its experiment's base if it has one."""
    commit = run.tags.get(BASE_TAG)
    parent = run.tags.get(PARENT_TAG)
    if commit is None and parent:
        try:
            commit = client.get_run(parent).tags.get(BASE_TAG)
        except NotFoundError:
            commit = None
    commit = commit or run.tags.get(COMMIT_TAG)
    if not commit:
        raise UsageError(
            f"Run {run.run_id} has no git commit, so there is no code to rebuild it from "
            "(it was not made in a git repository with a commit).",
            hint=f"`loom runs show {run.run_id}` shows its tags; runs made by `loom repro` "
            "or `loom exp run` in a git repository name their commit.",
            run_id=run.run_id,
        )
    return gitwork.resolve_commit(ws.root, commit)


def _prepare(client: Any, ws: Workspace, wt: Worktree, run: Any, r: Reproduction) -> str | None:
    """Set the run's params and data versions in the worktree; the stage to run alone."""
    if not (wt.ws.root / FILE).is_file():
        raise UsageError(
            f"Commit {r.commit[:7]} has no {FILE}: there is no pipeline to rebuild run "
            f"{run.run_id[:8]} with.",
            hint="`loom reproduce` reruns pipelines; this run was made some other way.",
        )
    stage = run.tags.get(STAGE_TAG) if r.kind == "stage" else None
    if stage is not None:
        load(wt.ws.root).stage(stage)  # NotFoundError naming the stages there
    r.unplaced_params = set_params(wt.ws.root, run.params)
    restore_versions(ws, wt.ws, _versions(client, wt, run))
    return stage


def _versions(client: Any, wt: Worktree, run: Any) -> list[Entry]:
    """What the run read: an experiment's loom.lock (its external deps), else its inputs."""
    if run.tags.get(EXP_TAG):
        try:
            with tempfile.TemporaryDirectory() as tmp:
                got = client.download_artifacts(run.run_id, LOCK_ARTIFACT, tmp)
                (wt.ws.root / lock.FILE).write_bytes(Path(got).read_bytes())
            return state.read(wt.ws.root).deps
        except LoomError:
            pass  # no lock logged (it failed early): its inputs say the same
    return [Entry(i.path, i.hash, i.size or 0, _kind_of(i.kind)) for i in run.inputs]


def _kind_of(kind: str) -> str:
    return "dir" if kind == "directory" else "file"


def _rerun(
    client: Any, wt: Worktree, run: Any, r: Reproduction, stage: str | None, console: Console
) -> Outcome:
    """``loom repro --force`` in the worktree, recorded as a new run tagged loom.reproduces."""
    targets = [stage] if stage else _targets(run)
    start = tracked.Start(
        state.experiment_of(wt.ws.root),
        f"reproduce-{run.name}",
        r.commit,
        r.commit,
        targets=targets,
        exp=False,
        extra_tags={REPRODUCES_TAG: run.run_id},
    )
    r.new_run_id = new = tracked.start(client, start)
    args = ["repro", "--force", "--parent-run", new, *(["--single-item"] if stage else [])]
    running = LocalExecutor(console).start(
        Job("reproduce", loom_command(*args, *targets), wt.ws.root, wt.env())
    )
    try:
        outcome = running.wait()
    except BaseException:  # Ctrl-C: stop it, record it, then the worktree goes
        running.kill()
        running.wait()
        tracked.finish(client, new, state.State(), "KILLED")
        raise
    r.status = "FINISHED" if outcome.ok else "FAILED"
    found = state.read(wt.ws.root, [stage] if stage else None)
    tracked.finish(client, new, found, r.status)
    return outcome


def _targets(run: Any) -> list[str]:
    import json

    try:
        return list(json.loads(run.tags.get(TARGETS_TAG) or "[]"))
    except ValueError:
        return []


def _counterpart(client: Any, r: Reproduction, stage: str | None) -> Any:
    """The new run to compare with: the new stage run for a stage run, else the new run."""
    if r.new_run_id is None:
        return None
    if stage is None:
        return client.get_run(r.new_run_id)
    parent = client.get_run(r.new_run_id)
    children = client.search_runs(
        [parent.experiment_id], f"tags.`{PARENT_TAG}` = '{r.new_run_id}'"
    ).items
    found = next((c for c in children if c.tags.get(STAGE_TAG) == stage), None)
    if found is not None:
        client.set_tag(found.run_id, REPRODUCES_TAG, r.run_id)
    return found


def compare(
    was: Mapping[str, float], now: Mapping[str, float], tolerance: float = 0.0
) -> list[MetricChange]:
    """Each metric of either run: same (within ``tolerance``, relative), changed, missing
    from ``now`` or new in it."""
    out = []
    for key in sorted(set(was) | set(now)):
        a, b = was.get(key), now.get(key)
        if a is None:
            status = "new"
        elif b is None:
            status = "missing"
        else:
            status = "same" if _close(a, b, tolerance) else "changed"
        out.append(MetricChange(key, a, b, status))
    return out


def _close(a: float, b: float, tolerance: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= tolerance * max(abs(a), abs(b))


def differences(r: Reproduction) -> Sequence[MetricChange]:
    return [m for m in r.metrics if m.status in ("changed", "missing")]
