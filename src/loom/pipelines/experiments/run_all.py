"""``loom exp run --run-all -j N``: every queued experiment, N at a time, each in its own worktree.

Each experiment gets a detached git worktree at its base commit under
``.loom/tmp/exps/<id>`` sharing the workspace's cache and tracking store
(``worktree``); there its pointers are checked out, its ``-S`` values set,
and ``loom repro`` runs as a process of its own — so N truly run side by side
and one crashing can't take the others down. Their output comes through one
``Console``, each line prefixed with the experiment's name. Then its run is
ended, the worktree removed and the queue entry dropped (its base commit stays
kept, by ``refs/loom/exps/runs/<id>``). One failing experiment doesn't stop the
others; ``ExperimentsFailed`` names the failed ones at the end.

    >>> results = run_queue(ws, jobs=2)          # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from loom.data.workspace import Workspace
from loom.errors import LoomError
from loom.pipelines import gitwork, overrides
from loom.pipelines.executor import Console, Job, LocalExecutor, LocalRunning
from loom.pipelines.experiments import queue, state, tracked
from loom.pipelines.experiments.queue import Queued
from loom.pipelines.experiments.run import ExpResult
from loom.pipelines.experiments.worktree import Worktree, loom_command


class ExperimentsFailed(LoomError):
    """Some queued experiments failed (the others finished)."""

    code = "EXPERIMENTS_FAILED"


class _Runner:
    def __init__(self, ws: Workspace, client: Any, console: Console) -> None:
        self.ws = ws
        self.client = client
        self.console = console
        self.executor = LocalExecutor(console)
        self.running: dict[str, LocalRunning] = {}
        self.stopping = threading.Event()
        self.git = threading.Lock()  # one `git worktree` change at a time

    def say(self, q: Queued, text: str) -> None:
        self.console.say(f"[{q.name}] {text}")

    def one(self, q: Queued) -> ExpResult:
        result = ExpResult(q.name, "FAILED", q.id, list(q.overrides))
        if self.stopping.is_set():
            result.status = queue.QUEUED  # never started: stays queued
            return result
        experiment = state.experiment_of(self.ws.root)
        start = tracked.Start(experiment, q.name, q.head, q.base, q.overrides, q.targets, q.id)
        tracked.start(self.client, start)
        gitwork.keep(self.ws.root, f"{gitwork.REFS}/runs/{q.id}", q.base)
        queue.remove(self.ws, q)  # its run has its id now: never queued twice
        found = state.State()
        try:
            with self._worktree(q) as wt:
                overrides.apply(wt.ws.root, overrides.parse(q.overrides))
                found = self._run(q, wt, result)
        except LoomError as exc:  # the worktree or its params could not be made
            result.error = exc.message
            self.say(q, f"failed: {exc.message}")
        tracked.finish(self.client, q.id, found, result.status, result.error)
        result.params, result.metrics = found.params, found.metrics
        return result

    @contextmanager
    def _worktree(self, q: Queued) -> Iterator[Worktree]:
        with self.git:
            wt = Worktree(self.ws, q.base, self.ws.tmp / "exps" / q.id).__enter__()
        try:
            yield wt
        finally:
            with self.git:
                wt.remove()

    def _run(self, q: Queued, wt: Worktree, result: ExpResult) -> state.State:
        self.say(q, "started" + (": " + ", ".join(q.overrides) if q.overrides else ""))
        repro = loom_command("repro", "--parent-run", q.id, *q.targets)
        cmd = f"{loom_command('checkout', '--quiet')} && {repro}"
        running = self.executor.start(Job(q.name, cmd, wt.ws.root, wt.env()))
        self.running[q.id] = running
        try:
            outcome = running.wait()
        finally:
            self.running.pop(q.id, None)
        if self.stopping.is_set() and not outcome.ok:
            result.status = "KILLED"
        else:
            result.status = "FINISHED" if outcome.ok else "FAILED"
        if not outcome.ok:
            result.error = _last_error(outcome.stderr) or f"exit status {outcome.status}"
        self.say(q, f"{result.status.lower()} in {outcome.seconds:.1f}s")
        return state.read(wt.ws.root)

    def stop(self) -> None:
        self.stopping.set()
        for running in list(self.running.values()):
            running.kill()


def run_queue(ws: Workspace, *, jobs: int = 1, console: Console | None = None) -> list[ExpResult]:
    """Run every queued experiment, ``jobs`` at a time; ExperimentsFailed when any failed."""
    from loom.tracking.client import Client

    entries = queue.entries(ws)
    if not entries:
        return []
    gitwork.repo_prefix(ws.root)
    console = console or Console(prefix=True)
    with Client() as client:
        runner = _Runner(ws, client, console)
        pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="loom-exp")
        futures = [pool.submit(runner.one, q) for q in entries]
        try:
            results = [f.result() for f in futures]
        except BaseException:  # Ctrl-C: stop them all, record them KILLED, remove worktrees
            runner.stop()
            pool.shutdown(wait=True)
            raise
        pool.shutdown()
    failed = [r for r in results if r.status != "FINISHED"]
    if failed:
        raise ExperimentsFailed(
            f"{len(failed)} of {len(results)} experiments failed: "
            + "; ".join(f"{r.name} ({(r.error or r.status).splitlines()[0]})" for r in failed),
            hint="Each one's run keeps the tail of its stages' output: `loom exp show`, then "
            "`loom runs show RUN_ID`. Fix, then run them again with `loom exp run -S …`.",
            experiments=results,
        )
    return results


def _last_error(stderr: str) -> str | None:
    """The last ``Error:`` loom printed, all its lines (the failed stage's stderr tail
    among them), without its hint."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Error:")]
    if not starts:
        return None
    said = []
    for line in lines[starts[-1] :]:
        if line.startswith("Hint:"):
            break
        said.append(line)
    return "\n".join(said).removeprefix("Error:").strip()
