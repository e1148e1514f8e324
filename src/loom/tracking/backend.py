"""The one seam under :class:`loom.Client`: a backend that stores runs and artifacts.

``LocalBackend`` talks to the SQL store in-process and keeps artifacts in a
local object DB. An ``http`` backend (with the server) implements the same
protocol over REST; the client above does not change.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from loom.objects.hashing import hash_file, hash_files
from loom.objects.odb import ObjectDB
from loom.tracking import artifact_refs
from loom.tracking import uri as uris

if TYPE_CHECKING:
    from loom.store import Store
    from loom.store.entities import (
        Artifact,
        Experiment,
        Metric,
        Page,
        Run,
        RunInput,
        RunStatus,
        ViewType,
    )


class Backend(Protocol):
    """What the client needs; every method maps to one store operation or artifact move."""

    uri: str

    def close(self) -> None: ...
    def upgrade(self) -> None: ...
    def create_experiment(self, name: str, tags: dict[str, str] | None = None) -> Experiment: ...
    def get_experiment(self, experiment_id: str) -> Experiment: ...
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...
    def list_experiments(self, view: ViewType) -> list[Experiment]: ...
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...
    def delete_experiment(self, experiment_id: str) -> None: ...
    def restore_experiment(self, experiment_id: str) -> None: ...
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...
    def create_run(self, experiment_id: str, **kwargs) -> Run: ...
    def get_run(self, run_id: str) -> Run: ...
    def update_run(self, run_id: str, **kwargs) -> None: ...
    def delete_run(self, run_id: str) -> None: ...
    def restore_run(self, run_id: str) -> None: ...
    def log_batch(self, run_id: str, metrics=(), params=None, tags=None) -> None: ...
    def end_run(self, run_id: str, status, end_time: int, metrics=(), tags=None) -> None: ...
    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None: ...
    def log_artifacts(self, run_id: str, artifacts: Sequence[Artifact]) -> None: ...
    def list_artifacts(self, run_id: str, prefix: str | None = None) -> list[Artifact]: ...
    def get_metric_history(self, run_id: str, key: str, *, max_points=None) -> list[Metric]: ...
    def search_runs(self, experiment_ids: Sequence[str], filter_string: str = "", **kw) -> Page: ...
    def list_runs_by_status(self, status: RunStatus) -> list[Run]: ...
    def put_files(self, files: Sequence[Path]) -> list[tuple[str, int]]: ...
    def put_bytes(self, data: bytes) -> tuple[str, int]: ...
    def get_file(self, oid: str, dst: Path) -> None: ...
    def fetch_missing(self, run_id: str, oids: Sequence[str]) -> None: ...
    def artifact_hashes(self) -> set[str]: ...


class LocalBackend:
    """The SQL store in this process plus a local object DB for artifact bytes.

    >>> b = LocalBackend("sqlite:////tmp/loom-doc.db")  # doctest: +SKIP
    """

    def __init__(self, uri: str) -> None:
        from loom.store import open_store

        self.uri = uri
        db = uris.sqlite_path(uri)
        if db is not None:
            db.parent.mkdir(parents=True, exist_ok=True)
        self.store: Store = open_store(uri)
        self._odb: ObjectDB | None = None

    def __getattr__(self, name: str):
        # The store already has the exact operations of the protocol; forward them
        # rather than restate thirty one-line methods. Only public names forward.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.store, name)

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

    # Artifact rows are written only after the cache's refs name their objects, so
    # `loom gc` keeps them whatever store it is started with (tracking/artifact_refs.py).
    def create_run(self, experiment_id: str, **kwargs) -> Run:
        arts = kwargs.get("artifacts") or ()
        if arts:
            kwargs["run_id"] = kwargs.get("run_id") or uuid.uuid4().hex
            artifact_refs.record(self.odb, kwargs["run_id"], [a.hash for a in arts])
        return self.store.create_run(experiment_id, **kwargs)

    def log_artifacts(self, run_id: str, artifacts: Sequence[Artifact]) -> None:
        artifact_refs.record(self.odb, run_id, [a.hash for a in artifacts])
        self.store.log_artifacts(run_id, artifacts)

    def fetch_missing(self, run_id: str, oids: Sequence[str]) -> None:
        """Fetch artifact objects the cache lacks from the workspace's default remote."""
        artifact_refs.fetch_missing(self.odb, run_id, oids)

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
    """The backend for a resolved URI (``local`` for every SQL URI today)."""
    if uri.startswith(("http://", "https://")):
        from loom.errors import UsageError

        raise UsageError(
            f"Tracking URI {uri!r} needs the http backend, which arrives with `loom server`.",
            hint="Use sqlite:///path/to/loom.db or postgresql+psycopg://user@host/db for now.",
        )
    return LocalBackend(uri)
