"""``loom.Client``: every tracking operation as a method, over one backend.

Metrics and tags are buffered and written by a background thread (see
:mod:`loom.tracking.batching`); params are written synchronously, so a param
conflict raises at the call that caused it. Reads that involve
metrics flush this client's buffer first, so a client always reads its own
writes.

    >>> c = Client("sqlite:////tmp/loom-example.db")
    >>> exp = c.create_experiment("demo")
    >>> run = c.create_run(exp.experiment_id, name="first")
    >>> c.log_metric(run.run_id, "loss", 0.25, step=1)
    >>> c.set_terminated(run.run_id)
    >>> c.get_run(run.run_id).metrics["loss"]
    0.25
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loom import config
from loom._types import StrPath
from loom.errors import LoomError, NotFoundError, ValidationError
from loom.store.entities import (
    AliasEvent,
    Artifact,
    DataLink,
    Experiment,
    Metric,
    ModelVersion,
    Page,
    Run,
    RunInput,
    RunStatus,
    ViewType,
)
from loom.store.validation import (
    INT64_MAX,
    INT64_MIN,
    metric_integer,
    metric_number,
    normalize_metric,
    validate_key,
    validate_tags,
)
from loom.tracking import artifacts, env, stale
from loom.tracking import uri as uris
from loom.tracking.backend import Backend, open_backend
from loom.tracking.batching import MetricBuffer
from loom.tracking.registry_client import RegistryClient
from loom.tracking.runtime import RunExtras

_CLIENTS: weakref.WeakSet[Client] = weakref.WeakSet()
_checked_keys: set[str] = set()  # keys already validated: log_metric stays microseconds


def new_run_name() -> str:
    """A name as the store gives a run that has none (``swift-heron-417``): for a run
    named before it exists, such as a queued experiment."""
    from loom.store.names import generate_run_name

    return generate_run_name()


def now_ms() -> int:
    return int(time.time() * 1000)


class Client(RegistryClient):
    """One connection to a tracking store; safe to share between threads.

    The model registry's methods come from :class:`RegistryClient`."""

    def __init__(self, tracking_uri: str | None = None) -> None:
        self.tracking_uri = uris.resolve_tracking_uri(tracking_uri)
        self._backend: Backend | None = None
        self._lock = threading.Lock()
        self._settings = uris.workspace_layers(uris.find_workspace())
        interval = float(config.get("tracking.flush_interval", self._settings))
        self._buffer = MetricBuffer(self._write_buffered, interval=min(interval, 1.0))
        self._extras: dict[str, RunExtras] = {}
        self._stored: dict[bytes, tuple[str, int]] = {}  # env file bytes -> (oid, size)
        _CLIENTS.add(self)

    def __repr__(self) -> str:
        return f"Client({self.tracking_uri!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = open_backend(self.tracking_uri)
        return self._backend

    def close(self) -> None:
        """Write buffered metrics, stop background threads, release the store."""
        try:
            self._buffer.close()
        finally:
            if self._backend is not None:
                self._backend.close()
                self._backend = None
                self._stored = {}

    def upgrade(self) -> None:
        """Apply pending schema migrations (``loom db upgrade``)."""
        self.backend.upgrade()

    # -- experiments ---------------------------------------------------------

    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> Experiment:
        return self.backend.create_experiment(name, dict(tags) if tags else None)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.backend.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.backend.get_experiment_by_name(name)

    def get_or_create_experiment(self, name: str) -> Experiment:
        """The active experiment ``name``, created if missing: safe when a sweep's
        processes all ask for the same new name at once. ConflictError if deleted."""
        return self.backend.get_or_create_experiment(name)

    def experiment(self, name_or_id: str) -> Experiment:
        """An experiment by name, else by id; NotFoundError naming the known ones."""
        found = self.backend.get_experiment_by_name(name_or_id)
        if found is not None:
            return found
        try:
            return self.backend.get_experiment(name_or_id)
        except NotFoundError:
            raise NotFoundError(
                f"No experiment named {name_or_id!r}.",
                hint="List experiments with `loom exp list`, or create it with "
                f"`loom exp create {name_or_id}`.",
                name=name_or_id,
            ) from None

    def list_experiments(self, view: ViewType = ViewType.ACTIVE_ONLY) -> list[Experiment]:
        return self.backend.list_experiments(view)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.backend.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self.backend.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self.backend.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self.backend.set_experiment_tag(experiment_id, key, str(value))

    # -- runs ----------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        capture_env: bool | None = None,
        log_system_metrics: bool = False,
        run_id: str | None = None,
        start_time: int | None = None,
    ) -> Run:
        """Start a RUNNING run owned by this process.

        ``run_id`` (32 hex digits) lets a caller hand the id to another process before
        the run exists (``loom repro`` gives it to each stage as ``LOOM_RUN_ID``).

        ``loom.host``/``loom.pid`` are always recorded (``mark_stale`` needs them);
        the rest of the environment unless ``capture_env=False`` or the setting
        ``tracking.capture_env`` is off. The first capture in a process (git, packages)
        runs in the background; later runs reuse it (the code a process runs is fixed).
        """
        if capture_env is None:
            capture_env = bool(config.get("tracking.capture_env", self._settings))
        cached = env.cached_capture() if capture_env else None
        all_tags = env.process_tags()
        if cached is not None:
            all_tags.update(cached.tags)
        all_tags.update({k: str(v) for k, v in (tags or {}).items()})
        run = self.backend.create_run(
            experiment_id,
            name=name,
            start_time=start_time or now_ms(),
            user=env.current_user(),
            tags=all_tags,
            run_id=run_id,
            artifacts=self._env_artifacts(cached) if cached is not None else (),
        )
        extras = self._extras.setdefault(run.run_id, RunExtras())
        if cached is None and capture_env:
            extras.background(lambda: self._capture_env(run.run_id))
        if log_system_metrics:
            interval = float(config.get("tracking.system_metrics_interval", self._settings))
            extras.sample(lambda k, v, s: self.log_metric(run.run_id, k, v, step=s), interval)
        return run

    def resume_run(self, run_id: str) -> Run:
        """Mark an existing run RUNNING again, owned by this process (for ``mark_stale``)."""
        self._flush_quietly()
        self.backend.log_batch(run_id, tags=env.process_tags())
        self.backend.update_run(run_id, status=RunStatus.RUNNING, end_time=None)
        return self.backend.get_run(run_id)

    def get_run(self, run_id: str) -> Run:
        self._flush_quietly()
        return self.backend.get_run(run_id)

    def resolve_run_id(self, ref: str) -> str:
        """A full run id from a full id or a unique prefix of at least 6 characters."""
        try:
            return self.backend.get_run(ref).run_id
        except NotFoundError:
            if len(ref) < 6 or not ref.isalnum():
                raise
        ids = [e.experiment_id for e in self.backend.list_experiments(ViewType.ALL)]
        matches = self.backend.search_runs(
            ids, f"attributes.run_id LIKE '{ref}%'", max_results=2, view=ViewType.ALL
        ).items
        if len(matches) == 1:
            return matches[0].run_id
        raise NotFoundError(
            f"Run id prefix {ref!r} matches {len(matches) or 'no'} runs.",
            hint="Give more characters of the run id; `loom runs list -e EXPERIMENT` shows them.",
            run_id=ref,
        )

    def set_terminated(
        self, run_id: str, status: RunStatus | str = RunStatus.FINISHED, end_time: int | None = None
    ) -> None:
        """End a run: finish background work, write every buffered point, set the status."""
        extras = self._extras.pop(run_id, None)
        errors: list[BaseException] = []
        if extras is not None:
            errors += extras.stop()
        status, end_time, ended = RunStatus(status), end_time or now_ms(), []

        def end(rid: str, metrics: Sequence[Metric], tags: dict[str, str]) -> None:
            # the run's last buffered points and its status: one transaction, not two
            self.backend.end_run(rid, status, end_time, list(metrics), tags or None)
            ended.append(rid)

        try:
            self._buffer.flush(last={run_id: end})
        except LoomError as exc:
            errors.append(exc)
        if not ended:  # nothing was buffered, or writing it failed: the status still lands
            self.backend.end_run(run_id, status, end_time)
        if errors:
            raise errors[0]

    def delete_run(self, run_id: str) -> None:
        self.backend.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.backend.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        view: ViewType = ViewType.ACTIVE_ONLY,
    ) -> Page[Run]:
        """Runs matching an MLflow-style filter (plus OR and parentheses).

        >>> c.search_runs([e], "metrics.acc > 0.9", order_by=["metrics.acc DESC"])  # doctest: +SKIP
        """
        self._flush_quietly()
        return self.backend.search_runs(
            self._experiment_ids(experiment_ids),
            filter_string,
            order_by=list(order_by) if order_by else None,
            max_results=max_results,
            page_token=page_token,
            view=view,
        )

    def _experiment_ids(self, refs: Sequence[str] | str) -> list[str]:
        """Experiment ids from ids or names: a string of digits is an id (no lookup),
        anything else a name, resolved like the CLI does (NotFoundError if unknown)."""
        if isinstance(refs, str):
            refs = [refs]
        return [r if r.isdigit() else self.experiment(r).experiment_id for r in map(str, refs)]

    def mark_stale(self, older_than: float | None = None, dry_run: bool = False) -> list[Run]:
        """Mark KILLED the RUNNING runs whose process is gone; return them.

        A run's end time is its last sign of life (latest metric, else its start),
        not the moment this runs: a run killed last night didn't last until now.
        """
        running = self.backend.list_runs_by_status(RunStatus.RUNNING)
        last = self.backend.last_activity([r.run_id for r in running]) if running else {}
        found = []
        for run in running:
            seen = last.get(run.run_id, run.start_time)
            if stale.dead_on_this_host(run) or (
                older_than is not None and stale.idle_for(run, seen, older_than)
            ):
                found.append(run)
                if not dry_run:
                    self.backend.update_run(run.run_id, status=RunStatus.KILLED, end_time=seen)
        return found

    def run_id_prefixes(self, run_ids: Sequence[str], min_length: int = 8) -> dict[str, str]:
        """For each run id, the shortest prefix (at least ``min_length``) no other run
        in the store shares: how a listing may shorten ids without making them ambiguous."""
        return self.backend.run_id_prefixes(list(run_ids), min_length) if run_ids else {}

    # -- logging -------------------------------------------------------------

    def log_metric(
        self, run_id: str, key: str, value: float, step: int = 0, timestamp: int | None = None
    ) -> None:
        """Buffer one point; it reaches the store within ``tracking.flush_interval``."""
        if key.__class__ is not str or key not in _checked_keys:
            validate_key(key, "metric")  # fail at the call, not in the flusher thread
            if len(_checked_keys) < 100_000:
                _checked_keys.add(key)
        if value.__class__ is not float:
            value = _number(key, value)
        # a plain int in range passes with two comparisons; 1.5, 2**70 or a numpy int
        # go through the full check (2.0 and numpy ints pass, as ints)
        if step.__class__ is not int or not INT64_MIN <= step <= INT64_MAX:
            step = metric_integer(key, "step", step)
        if timestamp is None or timestamp == 0:
            timestamp = now_ms()
        elif timestamp.__class__ is not int or not INT64_MIN <= timestamp <= INT64_MAX:
            timestamp = metric_integer(key, "timestamp", timestamp)
        self._buffer.add(run_id, Metric(key, value, timestamp, step))

    def log_metrics(
        self, run_id: str, metrics: Mapping[str, float], step: int = 0, timestamp: int | None = None
    ) -> None:
        ts = timestamp or now_ms()
        for key, value in metrics.items():
            self.log_metric(run_id, key, value, step, ts)

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        self.log_batch(run_id, params={key: value})

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        self.log_batch(run_id, params=params)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.log_batch(run_id, tags={key: value})

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        self.log_batch(run_id, tags=tags)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Params are written now (a conflict raises here); metrics and tags are buffered.

        Tags are checked at the call and reach the store with the next batch of metrics,
        so a run's tags and metrics cost one transaction. With params, the tags go along
        with them, synchronously.
        """
        self._buffer.raise_error()
        metrics = [normalize_metric(m) for m in metrics]  # refused here, not in the flusher
        str_tags = validate_tags({k: str(v) for k, v in (tags or {}).items()})
        if params:
            if str_tags:
                self._flush_quietly()  # an older buffered value of a tag must not land later
            self.backend.log_batch(
                run_id, params={k: str(v) for k, v in params.items()}, tags=str_tags or None
            )
        elif str_tags:
            self._buffer.add_many(run_id, list(str_tags.items()))
        if metrics:
            self._buffer.add_many(run_id, metrics)

    def flush(self) -> None:
        """Write every buffered point now; raise any error a background write hit."""
        self._buffer.flush()

    def get_metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> list[Metric]:
        self._flush_quietly()
        return self.backend.get_metric_history(run_id, key, max_points=max_points)

    def log_input(self, run_id: str, path: StrPath, name: str | None = None) -> RunInput:
        """Record the data version of ``path`` (content hash, size, kind, git HEAD)."""
        from loom.tracking.inputs import data_version

        version = data_version(path, name, run_id)
        self.backend.log_inputs(run_id, [version])
        return version

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        self.backend.log_inputs(run_id, list(inputs))

    def log_artifact(
        self, run_id: str, local_path: StrPath, artifact_path: str | None = None
    ) -> Artifact:
        return artifacts.log_file(self.backend, run_id, local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: StrPath, artifact_path: str | None = None
    ) -> list[Artifact]:
        return artifacts.log_dir(self.backend, run_id, local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> Artifact:
        return artifacts.log_bytes(self.backend, run_id, text.encode(), artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[Artifact]:
        return self.backend.list_artifacts(run_id, prefix=path or None)

    def artifact_hashes(self) -> set[str]:
        """Every object that any run's artifacts name: what ``loom gc`` must keep."""
        return self.backend.artifact_hashes()

    @property
    def artifact_root(self) -> Path | None:
        """Where this client's artifact bytes live (an object store root), if local."""
        return self.backend.artifact_root

    def download_artifacts(self, run_id: str, path: str = "", dst_path: StrPath = ".") -> Path:
        """Copy the artifact file or folder ``path`` ("" for all) under ``dst_path``.

        Objects the cache lacks (a run logged from a teammate's clone) are fetched
        from the workspace's default remote first; MissingObjectError if they are
        not there, and nothing is written.
        """
        return artifacts.download(self.backend, run_id, path, dst_path)

    # -- lineage ---------------------------------------------------------------

    def links_by_hash(
        self, hashes: Sequence[str], roles: Sequence[str] = ("input", "output", "artifact")
    ) -> list[DataLink]:
        """Which runs read (``input``), produced (``output``) or logged (``artifact``)
        content with one of these hashes: the joins lineage is made of."""
        return self.backend.links_by_hash(list(hashes), tuple(roles)) if hashes else []

    def links_by_run(
        self, run_ids: Sequence[str], roles: Sequence[str] = ("input", "output")
    ) -> list[DataLink]:
        """What these runs read and produced (and logged, with ``"artifact"``)."""
        return self.backend.links_by_run(list(run_ids), tuple(roles)) if run_ids else []

    def consumed_artifacts(self, run_ids: Sequence[str]) -> list[DataLink]:
        """The artifacts of these runs that some run read as an input."""
        return self.backend.consumed_artifacts(list(run_ids)) if run_ids else []

    def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        """Several runs in one query (deleted ones too); unknown ids are left out."""
        self._flush_quietly()
        return self.backend.get_runs(list(run_ids)) if run_ids else []

    def model_versions_by_run(self, run_ids: Sequence[str]) -> list[ModelVersion]:
        """The model versions registered from these runs (deleted ones too)."""
        return self.backend.model_versions_by_run(list(run_ids)) if run_ids else []

    def alias_event_at(self, name: str, alias: str, time_ms: int) -> AliasEvent | None:
        """The move of ``alias`` in force at ``time_ms`` (who, when, why); None before
        the alias was first set."""
        return self.backend.alias_event_at(name, alias, time_ms)

    # -- internals -----------------------------------------------------------

    def _write_buffered(self, run_id: str, metrics: Sequence[Metric], tags: dict[str, str]) -> None:
        self.backend.log_batch(run_id, metrics=list(metrics), tags=tags or None)

    def _flush_quietly(self) -> None:
        # A read must not lose the caller's error: it stays kept for the next log call.
        self._buffer.flush_keep_error()

    def _capture_env(self, run_id: str) -> None:
        captured = env.slow_capture()
        self.backend.log_batch(run_id, tags=captured.tags)
        self._log_env_files(run_id, captured)

    def _log_env_files(self, run_id: str, captured: env.Captured) -> None:
        arts = self._env_artifacts(captured)
        if arts:
            self.backend.log_artifacts(run_id, arts)

    def _env_artifacts(self, captured: env.Captured) -> list[Artifact]:
        # Every run of a process records the same requirements and diff: store the
        # bytes once, then only name them (objects are immutable once written).
        arts = []
        for path, data in captured.files.items():
            stored = self._stored.get(data)
            if stored is None:
                stored = self._stored[data] = self.backend.put_bytes(data)
            arts.append(Artifact(path, *stored))
        return arts


def _number(key: str, value: Any) -> float:
    if isinstance(value, int) and not isinstance(value, bool):
        return metric_number(key, value)  # 10**400 overflows a float: say which key
    try:
        return float(value)
    except OverflowError:
        return metric_number(key, value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"Metric {key!r} got {value!r} ({type(value).__name__}), which is not a number.",
            hint="Log numbers (int or float; NaN and inf are kept); log text as a tag or param.",
            key=key,
        ) from None


def _after_fork_in_child() -> None:
    # Database connections must not be shared with the parent: open fresh ones.
    for client in list(_CLIENTS):
        client._backend = None
        client._lock = threading.Lock()
        client._extras = {}


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _close_all_at_exit() -> None:
    # Flush, then close: closing the last connection makes SQLite fold the WAL into
    # the database file and delete it, so the store at rest is one file (a copy of
    # loom.db alone holds every run). Runs the fluent layer left open are ended by
    # its own handler, which runs before this one (registered later).
    for client in list(_CLIENTS):
        try:
            client.close()
        except LoomError as exc:  # nobody is left to raise to: say it on stderr
            print(f"loom: metrics not written at exit: {exc.message}", file=sys.stderr)
        except KeyboardInterrupt:  # Ctrl-C while the last points are written: the user wants out
            n = client._buffer.pending()
            print(f"loom: interrupted at exit; {n} metric point(s) not written", file=sys.stderr)
            return
