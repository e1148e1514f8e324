"""Every stage execution is a Loom run: params, metrics, inputs, outputs, git commit, output tails.

The run id is chosen here before the stage starts and handed to its process
as ``LOOM_RUN_ID`` (with ``LOOM_TRACKING_URI``), so ``loom.start_run()`` in the
stage's script logs into this very run. The writes go through one background
thread: importing the tracking client (SQLAlchemy) costs about half a second,
and a pipeline should not wait for it before its first command starts — the
command runs while the run is being created (``start_run`` in the stage waits
for the run to exist). A no-op ``loom repro`` never starts the thread.

    >>> rec = Recorder(ws, "pipelines")                            # doctest: +SKIP
    >>> run_id = rec.started(stage, params, deps)                  # doctest: +SKIP
    >>> rec.finished(run_id, "FINISHED", outs, metrics, outcome)   # doctest: +SKIP
    >>> rec.close()                                                # doctest: +SKIP
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from loom.data.workspace import Workspace
from loom.entities import RunInput, RunOutput
from loom.errors import LoomError, warn
from loom.pipelines.executor import Outcome
from loom.pipelines.lock import Entry
from loom.pipelines.params import flatten
from loom.pipelines.spec import Stage

DEFAULT_EXPERIMENT = "pipelines"
PARENT_TAG = "mlflow.parentRunId"  # MLflow's tag for a nested run
_PARAM_LEN = 6000  # the store's limit on a param value
_Task = Callable[[Any], None]


class Recorder:
    """``parent_run``: each stage's run is nested under it (``loom exp run`` passes the
    experiment's run)."""

    def __init__(
        self, ws: Workspace, experiment: str | None = None, parent_run: str | None = None
    ) -> None:
        from loom.tracking.uri import resolve_tracking_uri  # light: no SQLAlchemy

        self.ws = ws
        self.experiment = experiment or DEFAULT_EXPERIMENT
        self.parent_run = parent_run
        self.uri = resolve_tracking_uri()
        self._queue: queue.Queue[_Task | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._errors: list[BaseException] = []
        self._exp_id: str | None = None
        self._git: dict[str, str] = {}

    def env(self, run_id: str) -> dict[str, str]:
        """What the stage's process gets so that ``loom.start_run()`` logs into ``run_id``."""
        return {"LOOM_RUN_ID": run_id, "LOOM_TRACKING_URI": self.uri}

    def started(self, stage: Stage, params: Mapping[str, Mapping[str, Any]], deps: Sequence[Entry]):
        """Queue the run of ``stage`` (RUNNING, with params and inputs); returns its id."""
        run_id = uuid.uuid4().hex
        start = _now_ms()
        flat = params_text(params)
        inputs = [_input(d) for d in deps]

        def create(client: Any) -> None:
            tags = {**self._git, "loom.stage": stage.name, "loom.stage.cmd": stage.cmd[:8000]}
            if self.parent_run:
                tags[PARENT_TAG] = self.parent_run
            client.create_run(
                self._experiment_id(client),
                name=stage.name,
                tags=tags,
                capture_env=False,
                run_id=run_id,
                start_time=start,
            )
            if flat:
                client.log_params(run_id, flat)
            if inputs:
                client.log_inputs(
                    run_id, [RunInput(**{**i, "git_rev": self._commit()}) for i in inputs]
                )

        self._submit(create)
        return run_id

    def finished(
        self,
        run_id: str,
        status: str,
        outs: Sequence[Entry] = (),
        metrics: Mapping[str, float] | None = None,
        outcome: Outcome | None = None,
    ) -> None:
        """Queue the end of the run: metrics, outputs, stdout/stderr tails, ``status``."""
        end = _now_ms()
        outputs = [RunOutput(o.path, o.hash, o.size, _kind(o.kind)) for o in outs]

        def end_run(client: Any) -> None:
            if metrics:
                client.log_metrics(run_id, dict(metrics), timestamp=end)
            if outputs:
                client.log_outputs(run_id, outputs)
            if outcome is not None:
                if outcome.stdout:
                    client.log_text(run_id, outcome.stdout, "loom/stdout.txt")
                if outcome.stderr:
                    client.log_text(run_id, outcome.stderr, "loom/stderr.txt")
                client.set_tags(run_id, {"loom.stage.exit_status": outcome.status})
            client.set_terminated(run_id, status, end_time=end)

        self._submit(end_run)

    def close(self) -> None:
        """Wait for every queued write; a failed one is said as a warning (the pipeline's
        work is done and locked either way)."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join()
        self._thread = None
        if self._errors:
            exc = self._errors[0]
            message = exc.message if isinstance(exc, LoomError) else f"{type(exc).__name__}: {exc}"
            warn(
                f"The stages' runs could not all be recorded in the tracking store: {message}",
                hint="Check the tracking URI (`loom runs list`); loom.lock and the outs are "
                "up to date all the same.",
            )

    # -- the writer thread -----------------------------------------------------------

    def _submit(self, task: _Task) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="loom-record", daemon=True)
            self._thread.start()
        self._queue.put(task)

    def _work(self) -> None:
        client = None
        try:
            while True:
                task = self._queue.get()
                if task is None:
                    return
                try:
                    if client is None:
                        client = self._open()
                    task(client)
                except BaseException as exc:  # said at close(); the other runs still go on
                    self._errors.append(exc)
        finally:
            if client is not None:
                try:
                    client.close()
                except BaseException as exc:
                    self._errors.append(exc)

    def _open(self) -> Any:
        from loom.tracking.client import Client
        from loom.tracking.env import git_capture

        client = Client(self.uri)
        if self.ws.has_git:
            captured = git_capture()
            self._git = {k: v for k, v in captured.tags.items() if k != "loom.git.root"}
        return client

    def _experiment_id(self, client: Any) -> str:
        if self._exp_id is None:
            self._exp_id = client.get_or_create_experiment(self.experiment).experiment_id
        return self._exp_id

    def _commit(self) -> str | None:
        return self._git.get("loom.git.commit")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _kind(kind: str) -> str:
    return "directory" if kind == "dir" else "file"


def _input(dep: Entry) -> dict[str, Any]:
    return {"path": dep.path, "hash": dep.hash, "size": dep.size, "kind": _kind(dep.kind)}


def params_text(params: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Param values as the run's params: dotted keys, values as text (lists as JSON)."""
    out: dict[str, str] = {}
    for values in params.values():
        for key, value in flatten(values).items():
            text = json.dumps(value) if isinstance(value, list | dict) else _text(value)
            out[key] = text[:_PARAM_LEN]
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)
