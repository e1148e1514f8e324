"""What every request handler reaches: the store, the artifact bytes, the settings.

Nothing here is state of the server's own: the store's connection pool and an
auth cache that only ever saves work, so any process can answer any request.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from loom.errors import StoreError
from loom.server.blobs import Blobs, open_blobs
from loom.server.settings import ServerSettings
from loom.store import Store, migrate
from loom.store.engine import retrying


class Services:
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.store = Store(settings.backend_store_uri)
        self.cache: dict[Any, Any] = {}  # auth's verified credentials (see loom.server.auth)

    @cached_property
    def blobs(self) -> Blobs:
        destination = self.settings.artifacts_destination or str(Path.cwd() / "mlartifacts")
        return open_blobs(destination, self.settings.s3_endpoint_url)

    def close(self) -> None:
        self.store.close()


@retrying  # an unreachable or broken database is a StoreError with a hint, not a traceback
def check_schema(store: Store, *, upgrade: bool) -> str:
    """Bring a new store to life, or say whether an existing one is current.

    A store with no tables is created (that is not a migration). An existing one
    older than this Loom is migrated only with ``upgrade``; otherwise a StoreError
    says to pass ``--upgrade``. Returns what happened, for the start-up line.
    """
    engine = store._engine
    with engine.connect() as conn:
        revision = migrate.current_revision(conn)
        conn.rollback()
    if revision == migrate.HEAD:
        return "up to date"
    if revision is None or upgrade:
        store.upgrade()
        return "created" if revision is None else f"migrated from {revision}"
    raise StoreError(
        f"The store is at schema revision {revision}; this Loom needs {migrate.HEAD}.",
        hint="Back it up, then start once with `loom server --upgrade` (or run `loom db upgrade`).",
    )
