"""The fluent API (``loom.start_run``, ``loom.log_metric`` …): a thin layer over one Client.

    >>> import loom
    >>> loom.set_experiment("demo")  # doctest: +SKIP
    >>> with loom.start_run(name="first") as run:  # doctest: +SKIP
    ...     loom.log_param("lr", 0.01)
    ...     loom.log_metric("loss", 0.5, step=1)

Leaving the ``with`` block ends the run FINISHED; an exception ends it FAILED
and KeyboardInterrupt or SIGTERM KILLED (the exception propagates either way;
see :mod:`loom.tracking.sigterm`). Runs still active at interpreter exit are
ended too, after a last flush.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loom._types import StrPath
from loom.errors import ConflictError, LoomError, NotFoundError
from loom.store.entities import Artifact, Experiment, Run, RunInput, RunStatus
from loom.tracking import sigterm
from loom.tracking.client import Client

DEFAULT_EXPERIMENT = "Default"
RUN_ID_ENV = "LOOM_RUN_ID"  # set by `loom repro` for each stage's process
_ATTACH_SECONDS = 60.0

_lock = threading.RLock()
_client: Client | None = None
_tracking_uri: str | None = None
_experiment_id: str | None = None
_runs: list[ActiveRun] = []


class ActiveRun:
    """The run ``start_run`` began; ``.run_id`` and ``.info`` (the Run as it started).

    ``attached``: the run belongs to the process that started this one (a ``loom repro``
    stage, see :func:`start_run`); ending it here only flushes what was logged.
    """

    def __init__(self, run: Run, *, attached: bool = False) -> None:
        self.info = run
        self.run_id = run.run_id
        self.attached = attached
        self.pid = os.getpid()  # a forked child must not end its parent's run at exit

    def __repr__(self) -> str:
        return f"ActiveRun(run_id={self.run_id!r}, name={self.info.name!r})"

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            end_run(RunStatus.FINISHED)
            return
        killed = issubclass(exc_type, KeyboardInterrupt | sigterm.Terminated)
        status = RunStatus.KILLED if killed else RunStatus.FAILED
        try:
            end_run(status)
        except LoomError as err:  # don't hide the user's exception behind ours: report both
            print(f"loom: while ending run {self.run_id}: {err.message}", file=sys.stderr)


def get_client() -> Client:
    """The client the fluent functions use (created on first use)."""
    global _client
    with _lock:
        if _client is None:
            _client = Client(_tracking_uri)
        return _client


def set_tracking_uri(uri: str | None) -> None:
    """Use ``uri`` from now on (None: back to LOOM_TRACKING_URI / workspace / default)."""
    global _client, _tracking_uri, _experiment_id
    with _lock:
        if _client is not None:
            _client.close()
        _client, _tracking_uri, _experiment_id = None, uri, None


def get_tracking_uri() -> str:
    return get_client().tracking_uri


def set_experiment(name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Make ``name`` (created if missing) or ``experiment_id`` the target of new runs."""
    global _experiment_id
    client = get_client()
    if experiment_id is not None:
        exp = client.get_experiment(experiment_id)
    elif name:
        # one get-or-create in the store: eight processes of a sweep may all be here
        exp = client.get_or_create_experiment(name)
    else:
        raise NotFoundError("set_experiment needs a name or an experiment_id.")
    if exp.lifecycle_stage != "active":
        raise ConflictError(
            f"Experiment {exp.name!r} is deleted.",
            hint=f"Restore it with `loom exp restore {exp.name}` or choose another name.",
        )
    _experiment_id = exp.experiment_id
    return exp


def start_run(
    name: str | None = None,
    *,
    run_id: str | None = None,
    experiment_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    nested: bool = False,
    capture_env: bool | None = None,
    log_system_metrics: bool = False,
) -> ActiveRun:
    """Start (or with ``run_id``, resume) a run and make it active; use it in ``with``.

    In a ``loom repro`` stage (``LOOM_RUN_ID`` is set) the first ``start_run`` logs into
    the stage's own run instead of starting another; the pipeline ends that run.
    """
    client = get_client()
    with _lock:
        if _runs and not nested:
            raise ConflictError(
                f"Run {_runs[-1].run_id} is already active.",
                hint="Call loom.end_run() first, or pass nested=True for a child run.",
            )
        inherited = os.environ.get(RUN_ID_ENV)
        if run_id is None and not _runs and inherited:
            active = ActiveRun(_attach(client, inherited), attached=True)
            _runs.append(active)
            sigterm.install()
            return active
        if run_id is not None:
            run = client.resume_run(run_id)
        else:
            exp_id = (
                experiment_id or _experiment_id or set_experiment(DEFAULT_EXPERIMENT).experiment_id
            )
            all_tags = dict(tags or {})
            if _runs:
                all_tags["mlflow.parentRunId"] = _runs[-1].run_id
            run = client.create_run(
                exp_id,
                name=name,
                tags=all_tags,
                capture_env=capture_env,
                log_system_metrics=log_system_metrics,
            )
        active = ActiveRun(run)
        _runs.append(active)
        sigterm.install()  # docker stop / Slurm: the run ends KILLED, not RUNNING for ever
        return active


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run: flush its metrics, wait for its background work, set ``status``.

    A run attached from ``LOOM_RUN_ID`` is only flushed: the pipeline that owns it ends it.
    """
    with _lock:
        if not _runs:
            return
        active = _runs.pop()
    try:
        if active.attached:
            get_client().flush()
            return
        get_client().set_terminated(active.run_id, RunStatus(status))
    except Exception:
        raise  # the status landed all the same (set_terminated makes sure)
    except BaseException:
        # Ctrl-C or SIGTERM while the run was ending: it isn't ended yet, so keep it
        # for the exit handler, which ends it KILLED
        with _lock:
            _runs.append(active)
        raise
    finally:
        if not _runs:
            sigterm.uninstall()


def _attach(client: Client, run_id: str) -> Run:
    """The run ``LOOM_RUN_ID`` names; the pipeline creates it while this process starts,
    so wait (polling, as for a lock) up to ``_ATTACH_SECONDS`` for it to exist."""
    deadline = time.monotonic() + _ATTACH_SECONDS
    while True:
        try:
            return client.get_run(run_id)
        except NotFoundError:
            if time.monotonic() > deadline:
                raise NotFoundError(
                    f"{RUN_ID_ENV}={run_id} names no run in {client.tracking_uri}.",
                    hint=f"Unset {RUN_ID_ENV}, or run the script through `loom repro`.",
                    run_id=run_id,
                ) from None
            time.sleep(0.05)


def active_run() -> ActiveRun | None:
    return _runs[-1] if _runs else None


def _run_id() -> str:
    # Like MLflow, logging with no active run starts one.
    return (active_run() or start_run()).run_id


def log_metric(key: str, value: float, step: int = 0, timestamp: int | None = None) -> None:
    get_client().log_metric(_run_id(), key, value, step, timestamp)


def log_metrics(metrics: Mapping[str, float], step: int = 0, timestamp: int | None = None) -> None:
    get_client().log_metrics(_run_id(), metrics, step, timestamp)


def log_param(key: str, value: Any) -> None:
    get_client().log_param(_run_id(), key, value)


def log_params(params: Mapping[str, Any]) -> None:
    get_client().log_params(_run_id(), params)


def set_tag(key: str, value: Any) -> None:
    get_client().set_tag(_run_id(), key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    get_client().set_tags(_run_id(), tags)


def log_input(path: StrPath, name: str | None = None) -> RunInput:
    return get_client().log_input(_run_id(), path, name)


def log_artifact(local_path: StrPath, artifact_path: str | None = None) -> Artifact:
    return get_client().log_artifact(_run_id(), local_path, artifact_path)


def log_artifacts(local_dir: StrPath, artifact_path: str | None = None) -> list[Artifact]:
    return get_client().log_artifacts(_run_id(), local_dir, artifact_path)


def download_artifacts(run_id: str, path: str = "", dst_path: StrPath = ".") -> Path:
    return get_client().download_artifacts(run_id, path, dst_path)


def flush() -> None:
    """Write every buffered metric now; raise an error a background write hit."""
    if _client is not None:
        _client.flush()


@atexit.register
def _end_runs_at_exit() -> None:
    # sys.last_value is set when the interpreter reports an uncaught exception.
    last = getattr(sys, "last_value", None)
    status = RunStatus.FINISHED
    if isinstance(last, KeyboardInterrupt) or sigterm.received:
        status = RunStatus.KILLED
    elif last is not None:
        status = RunStatus.FAILED
    while _runs and _runs[-1].pid == os.getpid():
        try:
            end_run(status)
        except LoomError as exc:
            print(f"loom: ending run at exit: {exc.message}", file=sys.stderr)
        except KeyboardInterrupt:  # Ctrl-C again while ending: leave them to mark-stale
            print(
                "loom: interrupted while ending runs at exit; "
                "`loom runs mark-stale` marks them KILLED",
                file=sys.stderr,
            )
            return
