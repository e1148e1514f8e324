"""The loop of ``loom repro``: start stages as their upstream finishes, at most ``jobs`` at once.

The main thread does everything but wait for commands: it decides each stage
(``loom.pipelines.plan``) once its upstream stages are done, starts it through
the executor, then stores its outs, writes its lock entry and its run cache
entry, and queues its run's record. One thread per running command only waits.

- A failing command stops the pipeline: no new stage starts, the running ones
  are let finish (and locked if they succeed), the failed stage's lock entry
  stays as it was, its run is recorded FAILED with the tail of stderr, and
  ``StageFailed`` says which stage failed and why.
- Ctrl-C or SIGTERM kills the running commands' process groups; their runs
  end KILLED and their lock entries stay as they were (the lock is only
  written, atomically, after a stage succeeded).
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from loom.data.workspace import Workspace
from loom.errors import LockedError, LoomError
from loom.pipelines import lock, outputs, stage_metrics
from loom.pipelines.dag import Dag
from loom.pipelines.executor import Console, Executor, Job, LocalExecutor, Outcome, Running
from loom.pipelines.lock import StageLock
from loom.pipelines.plan import RESTORE, SKIP, Decision, Planner
from loom.pipelines.record import Recorder
from loom.pipelines.repro import (
    FAILED,
    KILLED,
    RAN,
    RESTORED,
    SKIPPED,
    ReproResult,
    StageFailed,
    StageResult,
    Terminated,
)
from loom.pipelines.spec import Pipeline


@dataclass
class _Active:
    decision: Decision
    running: Running
    run_id: str


class Scheduler:
    def __init__(
        self,
        ws: Workspace,
        pipeline: Pipeline,
        dag: Dag,
        planner: Planner,
        console: Console,
        executor: Executor | None,
        jobs: int,
        parent_run: str | None = None,
    ) -> None:
        self.ws = ws
        self.pipeline = pipeline
        self.dag = dag
        self.planner = planner
        self.console = console
        self.executor: Executor = executor or LocalExecutor(console)
        self.jobs = jobs
        self.recorder = Recorder(ws, pipeline.experiment, parent_run)
        self.result = ReproResult()
        self.active: dict[Future[Outcome], _Active] = {}
        self.failure: StageFailed | None = None

    def all(self, names: Sequence[str]) -> ReproResult:
        pending = list(names)
        chosen = set(names)
        finished: set[str] = set()
        try:
            with _sigterm_raises():
                while pending or self.active:
                    if self.failure is None:
                        self._start_ready(pending, chosen, finished)
                    if self.failure is not None:
                        pending.clear()  # a stage failed: nothing new starts
                    if not self.active:
                        # every pending stage waits for one that is neither running nor
                        # pending: only a failure (which cleared them) leads here
                        if pending:
                            raise RuntimeError(f"stages wait for nothing: {pending}")
                        continue
                    done, _ = wait(list(self.active), return_when=FIRST_COMPLETED)
                    for future in done:
                        name = self._finish(future, self.active.pop(future))
                        if name is not None:
                            finished.add(name)
        except BaseException:
            self._stop_all()
            raise
        finally:
            self.recorder.close()
        if self.failure is not None:
            self.failure.fields["result"] = self.result
            raise self.failure
        return self.result

    def _start_ready(self, pending: list[str], chosen: set[str], finished: set[str]) -> None:
        for name in list(pending):
            if len(self.active) >= self.jobs:
                return
            if (self.dag.upstream[name] & chosen) - finished:
                continue  # waits for its upstream
            pending.remove(name)
            try:
                decision = self.planner.decide(name)
                if decision.action == SKIP:
                    self.result.stages.append(StageResult(name, SKIPPED, decision.reason))
                    self.console.say(f"Stage {name} skipped: {decision.reason}.")
                    finished.add(name)
                elif decision.action == RESTORE:
                    self._restore(decision)
                    finished.add(name)
                else:
                    self._start(decision)
            except LoomError as exc:  # e.g. a dep its upstream should have written is not there
                self._not_started(name, exc)
                return

    def _not_started(self, name: str, exc: LoomError) -> None:
        """A stage that could not even start: the pipeline stops as for a failed command."""
        self.result.stages.append(StageResult(name, FAILED, exc.message))
        self.failure = StageFailed(
            f"Stage {name!r} could not run: {exc.message}",
            hint=exc.hint,
            stage=name,
        )

    def _restore(self, d: Decision) -> None:
        stage = self.dag.stages[d.name]
        outputs.restore(self.ws, stage, d.restore, self.planner.versions)
        self._lock(d, list(d.restore))
        self.result.stages.append(StageResult(d.name, RESTORED, d.reason))
        self.console.say(f"Stage {d.name}: {d.reason}.")

    def _start(self, d: Decision) -> None:
        stage = self.dag.stages[d.name]
        outputs.clear(self.ws, stage)
        self.planner.versions.forget([o.path for o in stage.outs])
        run_id = self.recorder.started(stage, d.params, d.deps)
        self.console.say(f"Running stage {d.name}: {d.reason}.\n> {stage.cmd}")
        env = {**os.environ, **self.recorder.env(run_id)}
        job = Job(d.name, stage.cmd, self.ws.root / stage.wdir, env)
        with _signals_deferred():  # a started command is always one _stop_all knows of
            try:
                running = self.executor.start(job)
            except OSError as exc:  # e.g. its wdir does not exist
                outcome = Outcome(127, "", f"{exc}\n", 0.0)
                self._failed(d, run_id, outcome, f"could not start: {exc.strerror or exc}")
                return
            future: Future[Outcome] = Future()
            self.active[future] = _Active(d, running, run_id)
        threading.Thread(
            target=_wait_into, args=(running, future), daemon=True, name="loom-wait"
        ).start()

    def _finish(self, future: Future[Outcome], active: _Active) -> str | None:
        """Store, lock and record a finished stage; its name when it succeeded."""
        d, run_id = active.decision, active.run_id
        outcome = future.result()
        if not outcome.ok:
            self._failed(d, run_id, outcome, _exit_text(outcome.status))
            return None
        stage = self.dag.stages[d.name]
        try:
            outs = outputs.store(self.ws, stage, self.planner.versions)
            found = _metrics(self.ws, stage)
        except LoomError as exc:
            self._failed(d, run_id, outcome, exc.message, hint=exc.hint)
            return None
        self._lock(d, outs)
        if d.key is not None and self.planner.cache is not None:
            # saved for persist outs too (never looked up for them): its ref keeps the
            # objects the lock names from gc
            self.planner.cache.save(d.key, outs)
        self.recorder.finished(run_id, "FINISHED", outs, found, outcome)
        self.result.stages.append(
            StageResult(d.name, RAN, d.reason, run_id, outcome.status, outcome.seconds)
        )
        self.console.say(f"Stage {d.name} done in {outcome.seconds:.1f}s.")
        return d.name

    def _lock(self, d: Decision, outs) -> None:
        stage = self.dag.stages[d.name]
        entry = StageLock(stage.cmd, stage.wdir, d.deps, d.params, tuple(outs))
        lock.update(self.ws.root, d.name, entry, keep=self.pipeline.stages)

    def _failed(
        self, d: Decision, run_id: str, outcome: Outcome, why: str, hint: str | None = None
    ) -> None:
        self.recorder.finished(run_id, "FAILED", outcome=outcome)
        self.result.stages.append(
            StageResult(d.name, FAILED, why, run_id, outcome.status, outcome.seconds)
        )
        if self.failure is not None:
            return  # the first failure is the one reported; the others are in the result
        tail = "\n".join(outcome.stderr.rstrip("\n").splitlines()[-10:])
        stage = self.dag.stages[d.name]
        self.failure = StageFailed(
            f"Stage {d.name!r} failed: {why.rstrip('.')}."
            + (f"\n  $ {stage.cmd}\n" + _indent(tail) if tail else f"\n  $ {stage.cmd}"),
            hint=hint
            or "Fix it and run `loom repro` again; its entry in loom.lock is unchanged, and "
            f"its run {run_id} keeps the tail of stderr (artifact loom/stderr.txt).",
            stage=d.name,
            run_id=run_id,
            status=outcome.status,
        )

    def _stop_all(self) -> None:
        """Ctrl-C or SIGTERM: kill every running command, end its run KILLED."""
        for active in self.active.values():
            active.running.kill()
        for future, active in list(self.active.items()):
            try:
                outcome = future.result()
            except BaseException:
                outcome = None
            self.recorder.finished(active.run_id, "KILLED", outcome=outcome)
            self.result.stages.append(
                StageResult(active.decision.name, KILLED, "interrupted", active.run_id)
            )
        self.active.clear()


def _wait_into(running: Running, future: Future[Outcome]) -> None:
    try:
        future.set_result(running.wait())
    except BaseException as exc:
        future.set_exception(exc)


def _metrics(ws: Workspace, stage) -> dict[str, float]:
    found: dict[str, float] = {}
    for out in stage.metrics:
        found.update(stage_metrics.read(ws.path_of(out.path), out.path))
    return found


def _exit_text(status: int) -> str:
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"its command was killed by {name}"
    return f"its command exited with status {status}"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ctrl-C or SIGTERM inside the block is acted on when it ends, not in the middle: a
    command started there but not yet recorded as running would be left running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    signals = (signal.SIGINT, signal.SIGTERM)
    before = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in signals}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
        for signum in caught[:1]:
            handler = before[signal.Signals(signum)]
            if callable(handler):
                handler(signum, None)  # raises KeyboardInterrupt or Terminated, now
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM raises (so the stages are stopped and the runs ended) while this runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up
        raise Terminated(128 + signum)

    before = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


@contextmanager
def only_repro(ws: Workspace) -> Iterator[None]:
    """One ``loom repro`` per workspace at a time (an flock, dropped if the process dies).

    Not the workspace lock: a stage's own command may run ``loom add`` or log inputs.
    It lives in a folder of ``.loom/tmp`` (git-ignored; gc sweeps only files right there).
    """
    path = ws.tmp / "locks" / "repro"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                f"Another `loom repro` is running in {ws.root}.",
                hint="Wait for it to finish, then run `loom repro` again.",
                path=str(path),
            ) from None
        yield
    finally:
        os.close(fd)
