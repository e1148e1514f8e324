"""The store's connection handling, shared by the aggregate mixins of :class:`Store`."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, or_
from sqlalchemy.exc import DBAPIError

from loom.store import migrate
from loom.store.engine import make_engine, retrying

# SQLite allows 32766 bound variables per statement; stay well under it.
CHUNK = 500


def now_ms() -> int:
    return int(time.time() * 1000)


def in_folder(column: Any, folder: str) -> ColumnElement[bool]:
    """``column`` is ``folder`` or a path below it (``reports`` holds ``reports/a.html``,
    not ``reports2/b``): a range on the index instead of LIKE, so nothing needs escaping
    ("0" is the character after "/")."""
    return or_(column == folder, and_(column >= folder + "/", column < folder + "0"))


def chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class StoreBase:
    """Engine, transactions and migrations; the aggregates live in the mixins."""

    uri: str

    def __init__(self, uri: str, engine: Engine | None = None) -> None:
        self.uri = uri
        self._engine = engine or make_engine(uri)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @retrying
    def upgrade(self) -> None:
        """Apply pending migrations (what ``loom db upgrade`` runs); safe to repeat."""
        migrate.upgrade(self._engine)

    def close(self) -> None:
        """Release the pooled connections. When the last connection to a SQLite file
        closes, SQLite folds the WAL into the file and deletes it: the store at rest
        is one file that can be copied alone."""
        self._engine.dispose()

    def checkpoint(self) -> None:
        """Copy what the SQLite WAL holds into the database file, as far as readers
        allow (PASSIVE: never waits for, nor blocks, other connections); a no-op on
        PostgreSQL. A copy of ``loom.db`` alone then holds every ended run."""
        if self.dialect != "sqlite":
            return
        # The raw connection is in autocommit mode: a checkpoint can't run in a
        # transaction. Best effort: what it can't copy stays safe in the WAL.
        try:
            raw = self._engine.raw_connection()
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").close()
            finally:
                raw.close()
        except (DBAPIError, sqlite3.Error):
            pass

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` on SQLite); rolled back on error."""
        with self._engine.connect() as conn:
            conn = conn.execution_options(loom_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def __repr__(self) -> str:
        return f"Store({self.uri!r})"
