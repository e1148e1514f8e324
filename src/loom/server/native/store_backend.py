"""The Backend the native API calls: LocalBackend's methods on the server's store.

The server keeps artifact bytes in its blobs, not in a local object DB, so the
two methods that record cache refs for a workspace's gc go straight to the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from loom.store import Store
from loom.store.entities import Artifact, Run
from loom.tracking.backend import LocalBackend


class StoreBackend(LocalBackend):
    def __init__(self, store: Store) -> None:  # no object DB; the store is the server's
        self.uri = ""
        self.store = store
        self._odb = None

    def close(self) -> None:
        """The store is the server's, closed at shutdown."""

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
        return self.store.create_run(
            experiment_id,
            name=name,
            start_time=start_time,
            user=user,
            tags=dict(tags) if tags else None,
            run_id=run_id,
            artifacts=artifacts,
        )

    def log_artifacts(self, run_id: str, artifacts: Sequence[Artifact]) -> None:
        self.store.log_artifacts(run_id, artifacts)
