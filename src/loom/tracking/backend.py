"""The one seam under :class:`loom.Client`: a backend that stores runs and artifacts.

:class:`Backend` is the contract, every method typed with the entities of
:mod:`loom.store.entities`. ``LocalBackend`` talks to the SQL store in-process
and keeps artifacts in a local object DB; the ``http`` backend (with the
server) implements the same methods over REST, and the client above does not
change. ``tests/tracking/test_backend_contract.py`` runs against every backend.
"""

from __future__ import annotations

import abc
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from loom.objects.hashing import hash_file, hash_files
from loom.objects.odb import ObjectDB
from loom.store import Store, open_store
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
from loom.tracking import artifact_refs
from loom.tracking import uri as uris
from loom.tracking.local_registry import LocalRegistry
from loom.tracking.registry_backend import RegistryBackend


class Backend(RegistryBackend):
    """What the client needs: store operations and artifact bytes. Each method is one
    transaction (or one object move); errors are :class:`loom.errors.LoomError`s.
    The registry's methods are declared in :mod:`loom.tracking.registry_backend`."""

    uri: str

    @property
    def artifact_root(self) -> Path | None:
        """The local object store that holds artifact bytes (None: a server keeps them)."""
        return None

    # -- lifecycle -------------------------------------------------------------

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; the backend may be used again (it reconnects)."""

    @abc.abstractmethod
    def upgrade(self) -> None:
        """Bring the store's schema up to date (``loom db upgrade``)."""

    # -- experiments -----------------------------------------------------------

    @abc.abstractmethod
    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> Experiment:
        """A new experiment; AlreadyExistsError if the name is taken."""

    @abc.abstractmethod
    def get_or_create_experiment(self, name: str) -> Experiment:
        """The active experiment ``name``, created if missing, safe for concurrent callers;
        ConflictError if it is deleted."""

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """NotFoundError if there is none."""

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    @abc.abstractmethod
    def list_experiments(self, view: ViewType = ViewType.ACTIVE_ONLY) -> list[Experiment]: ...

    @abc.abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None: ...

    @abc.abstractmethod
    def restore_experiment(self, experiment_id: str) -> None: ...

    @abc.abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    # -- runs ------------------------------------------------------------------

    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        start_time: int | None = None,
        user: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_id: str | None = None,
        artifacts: Sequence[Artifact] = (),
    ) -> Run:
        """A RUNNING run with its first tags and artifacts."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with params, latest metrics, tags and inputs; NotFoundError if none."""

    @abc.abstractmethod
    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> None: ...

    @abc.abstractmethod
    def end_run(
        self,
        run_id: str,
        status: RunStatus | str,
        end_time: int,
        metrics: Sequence[Metric] = (),
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """The run's last metrics and tags and its final status, in one transaction."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def restore_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def list_runs_by_status(self, status: RunStatus) -> list[Run]:
        """Active runs in ``status``."""

    @abc.abstractmethod
    def last_activity(self, run_ids: Sequence[str]) -> dict[str, int]:
        """Each run's latest metric timestamp, else its start time (ms)."""

    @abc.abstractmethod
    def run_id_prefixes(self, run_ids: Sequence[str], min_length: int = 8) -> dict[str, str]:
        """Each id's shortest prefix (at least ``min_length``) unique in the store."""

    @abc.abstractmethod
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
        """Runs of these experiment ids (ids, not names) matching the filter, one page."""

    # -- logging ---------------------------------------------------------------

    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Metrics, params and tags in one transaction; a changed param is a ConflictError."""

    @abc.abstractmethod
    def get_metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> list[Metric]: ...

    @abc.abstractmethod
    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None: ...

    # -- artifacts -------------------------------------------------------------

    @abc.abstractmethod
    def log_artifacts(self, run_id: str, artifacts: Sequence[Artifact]) -> None:
        """Record ``path -> (hash, size)`` rows; the bytes went first (``put_*``)."""

    @abc.abstractmethod
    def list_artifacts(self, run_id: str, prefix: str | None = None) -> list[Artifact]: ...

    @abc.abstractmethod
    def artifact_hashes(self) -> set[str]:
        """Every object any run's artifacts name (what gc must keep)."""

    @abc.abstractmethod
    def put_files(self, files: Sequence[Path]) -> list[tuple[str, int]]:
        """Store files as objects; (oid, size) for each."""

    @abc.abstractmethod
    def put_bytes(self, data: bytes) -> tuple[str, int]: ...

    @abc.abstractmethod
    def get_file(self, oid: str, dst: Path) -> None:
        """Write the object ``oid`` to ``dst``, verified, never half a file."""

    @abc.abstractmethod
    def fetch_missing(self, run_id: str, oids: Sequence[str]) -> None:
        """Make the artifact objects ``oids`` readable by ``get_file`` (fetch what's absent),
        or raise MissingObjectError before anything is written."""

    # -- lineage ---------------------------------------------------------------

    @abc.abstractmethod
    def links_by_hash(
        self, hashes: Sequence[str], roles: Sequence[str] = ("input", "output", "artifact")
    ) -> list[DataLink]:
        """The inputs, outputs and artifacts of any run whose content hash is in ``hashes``."""

    @abc.abstractmethod
    def links_by_run(
        self, run_ids: Sequence[str], roles: Sequence[str] = ("input", "output")
    ) -> list[DataLink]:
        """The inputs and outputs (artifacts if asked) of these runs."""

    @abc.abstractmethod
    def consumed_artifacts(self, run_ids: Sequence[str]) -> list[DataLink]:
        """The artifacts of these runs whose hash some run's input has."""

    @abc.abstractmethod
    def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        """The runs with these ids, deleted ones too; unknown ids are left out."""

    @abc.abstractmethod
    def model_versions_by_run(self, run_ids: Sequence[str]) -> list[ModelVersion]:
        """The model versions registered from these runs, deleted ones too."""

    @abc.abstractmethod
    def alias_event_at(self, name: str, alias: str, time_ms: int) -> AliasEvent | None:
        """The alias's latest event at or before ``time_ms``; None before the first."""


class LocalBackend(LocalRegistry, Backend):
    """The SQL store in this process plus a local object DB for artifact bytes.

    >>> b = LocalBackend("sqlite:////tmp/loom-doc.db")  # doctest: +SKIP
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri
        db = uris.sqlite_path(uri)
        if db is not None:
            db.parent.mkdir(parents=True, exist_ok=True)
        self.store: Store = open_store(uri)
        self._odb: ObjectDB | None = None

    @property
    def odb(self) -> ObjectDB:
        if self._odb is None:
            root = uris.artifact_root(self.uri)
            # In a workspace, share the data cache and its temp dir (same filesystem, so
            # the atomic rename works, and `.loom/tmp` is already git-ignored).
            in_ws = root.name == "cache" and root.parent.name == ".loom"
            odb = ObjectDB(root, tmp_dir=root.parent / "tmp" if in_ws else None)
            artifact_refs.backfill(odb, self.uri, self.store.artifact_hashes)  # once per cache
            self._odb = odb
        return self._odb

    @property
    def artifact_root(self) -> Path:
        return self.odb.root

    def close(self) -> None:
        self.store.close()

    def upgrade(self) -> None:
        self.store.upgrade()

    # -- experiments -----------------------------------------------------------

    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> Experiment:
        return self.store.create_experiment(name, dict(tags) if tags else None)

    def get_or_create_experiment(self, name: str) -> Experiment:
        return self.store.get_or_create_experiment(name)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.store.get_experiment_by_name(name)

    def list_experiments(self, view: ViewType = ViewType.ACTIVE_ONLY) -> list[Experiment]:
        return self.store.list_experiments(view)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.store.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self.store.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.store.set_experiment_tag(experiment_id, key, value)

    # -- runs ------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        start_time: int | None = None,
        user: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_id: str | None = None,
        artifacts: Sequence[Artifact] = (),
    ) -> Run:
        # Artifact rows are written only after the cache's refs name their objects, so
        # `loom gc` keeps them whatever store it is started with (tracking/artifact_refs.py).
        if artifacts:
            run_id = run_id or uuid.uuid4().hex
            artifact_refs.record(self.odb, run_id, [a.hash for a in artifacts])
        return self.store.create_run(
            experiment_id,
            name=name,
            start_time=start_time,
            user=user,
            tags=dict(tags) if tags else None,
            run_id=run_id,
            artifacts=artifacts,
        )

    def get_run(self, run_id: str) -> Run:
        return self.store.get_run(run_id)

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> None:
        self.store.update_run(run_id, status=status, end_time=end_time, name=name)

    def end_run(
        self,
        run_id: str,
        status: RunStatus | str,
        end_time: int,
        metrics: Sequence[Metric] = (),
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.store.end_run(run_id, status, end_time, metrics, tags)

    def delete_run(self, run_id: str) -> None:
        self.store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.store.restore_run(run_id)

    def list_runs_by_status(self, status: RunStatus) -> list[Run]:
        return self.store.list_runs_by_status(status)

    def last_activity(self, run_ids: Sequence[str]) -> dict[str, int]:
        return self.store.last_activity(run_ids)

    def run_id_prefixes(self, run_ids: Sequence[str], min_length: int = 8) -> dict[str, str]:
        return self.store.run_id_prefixes(run_ids, min_length)

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
        return self.store.search_runs(
            experiment_ids,
            filter_string,
            order_by=order_by,
            max_results=max_results,
            page_token=page_token,
            view=view,
        )

    # -- logging ---------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.store.log_batch(run_id, metrics, params, tags)

    def get_metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> list[Metric]:
        return self.store.get_metric_history(run_id, key, max_points=max_points)

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        self.store.log_inputs(run_id, inputs)

    # -- artifacts -------------------------------------------------------------

    def log_artifacts(self, run_id: str, artifacts: Sequence[Artifact]) -> None:
        artifact_refs.record(self.odb, run_id, [a.hash for a in artifacts])  # refs first
        self.store.log_artifacts(run_id, artifacts)

    def fetch_missing(self, run_id: str, oids: Sequence[str]) -> None:
        """Fetch artifact objects the cache lacks from the workspace's default remote."""
        artifact_refs.fetch_missing(self.odb, run_id, oids)

    def list_artifacts(self, run_id: str, prefix: str | None = None) -> list[Artifact]:
        return self.store.list_artifacts(run_id, prefix)

    def artifact_hashes(self) -> set[str]:
        return self.store.artifact_hashes()

    def put_files(self, files: Sequence[Path]) -> list[tuple[str, int]]:
        """Store files as objects (identical bytes stored once); return (oid, size) each."""
        sizes = [os.stat(f).st_size for f in files]
        oids = hash_files(list(files)) if len(files) > 1 else [hash_file(f) for f in files]
        for f, oid in zip(files, oids, strict=True):
            self.odb.add_file(f, oid)
        return list(zip(oids, sizes, strict=True))

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        return self.odb.add_bytes(data), len(data)

    def get_file(self, oid: str, dst: Path) -> None:
        """Copy an artifact's object to ``dst``, verified; loose or packed (an artifact
        may share its bytes with a small data file that ``loom add`` packed)."""
        dst.parent.mkdir(parents=True, exist_ok=True)
        self.odb.write_to(oid, dst, mode="copy")  # temp beside dst, renamed: never half a file


def open_backend(uri: str) -> Backend:
    """The backend for a resolved URI: ``http`` for a Loom server, else the local store."""
    if uri.startswith(("http://", "https://")):
        from loom.tracking.http_backend import HttpBackend

        return HttpBackend(uri)
    return LocalBackend(uri)
