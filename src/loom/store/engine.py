"""Engines for the store's URIs, SQLite tuning, and retries on a busy database.

SQLite is opened in WAL mode with a busy timeout, ``synchronous=NORMAL`` and
case-sensitive LIKE (as MLflow does, so LIKE means the same on both backends).
Writes begin with ``BEGIN IMMEDIATE``: a deferred transaction that later needs
the write lock can fail at once with "database is locked" whatever the busy
timeout, while an immediate one waits its turn.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from loom.errors import LoomError, StoreError, ValidationError
from loom.store.seed import seed

F = TypeVar("F", bound=Callable[..., Any])

BUSY_TIMEOUT_MS = 30_000
RETRY_SECONDS = 120.0
_BUSY_MARKERS = (
    "database is locked",
    "database is busy",
    "deadlock detected",
    "could not serialize",
)
_URI_HINT = "Use sqlite:///ABSOLUTE/PATH/loom.db or postgresql://USER@HOST:5432/DB"


def normalize_uri(uri: str) -> str:
    """Return the SQLAlchemy URL for a store URI (``postgresql://`` means psycopg 3).

    >>> normalize_uri("postgresql://u@h/db")
    'postgresql+psycopg://u@h/db'
    """
    if not isinstance(uri, str) or not uri.strip():
        raise ValidationError("The tracking store URI is empty.", hint=_URI_HINT)
    uri = uri.strip()
    for prefix in ("postgresql://", "postgres://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    if uri.startswith(("postgresql+psycopg://", "sqlite:///")):
        return uri
    raise ValidationError(
        f"Unsupported tracking store URI {uri!r}: expected sqlite:/// or postgresql://.",
        hint=_URI_HINT,
        uri=uri,
    )


def make_engine(uri: str) -> Engine:
    """Create the engine for ``uri``; for SQLite, create the file's folder too."""
    url_text = normalize_uri(uri)
    try:
        url = make_url(url_text)
    except ArgumentError as exc:
        raise ValidationError(f"Malformed store URI {uri!r}: {exc}", hint=_URI_HINT) from exc
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url_text, url.database)
    return create_engine(url_text, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_engine(url_text: str, database: str | None) -> Engine:
    if not database or database == ":memory:":
        raise ValidationError(
            "An in-memory SQLite store can't be shared between connections.",
            hint="Give a file: sqlite:///ABSOLUTE/PATH/loom.db",
        )
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    seed(Path(database))  # a new file starts with the schema, without Alembic
    engine = create_engine(
        url_text, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, see _on_begin
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA cache_size = -65536")  # 64 MiB: indexes of 100k runs stay hot
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA case_sensitive_like = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("loom_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def is_busy(exc: BaseException) -> bool:
    """True for errors that go away by trying again: a locked SQLite, a PG deadlock."""
    text = str(getattr(exc, "orig", exc)).lower()
    return any(marker in text for marker in _BUSY_MARKERS)


def retrying(fn: F) -> F:
    """Retry ``fn`` while the database is busy; turn other driver errors into StoreError.

    A "database is locked" never reaches the user: with many writers the
    busy timeout can expire, and then the whole transaction is tried again.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + RETRY_SECONDS
        delay = 0.005
        while True:
            try:
                return fn(*args, **kwargs)
            except LoomError:
                raise
            except DBAPIError as exc:
                if not is_busy(exc) or time.monotonic() > deadline:
                    raise _store_error(
                        exc, getattr(args[0] if args else None, "_engine", None)
                    ) from exc
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.25)

    return wrapper  # type: ignore[return-value]


# What a driver's message says went wrong -> the hint for it ({where}: the file or server).
_CORRUPT = ("file is not a database", "malformed", "file is encrypted")
_DENIED = ("readonly database", "unable to open database file", "permission denied")
_FULL = ("database or disk is full", "no space left")
_SCHEMA = ("no such table", "no such column", "undefinedtable", "undefinedcolumn")
_UNREACHABLE = ("connection", "connect", "timeout", "could not translate host")


def _store_error(exc: DBAPIError, engine: Engine | None = None) -> StoreError:
    """The driver error ``exc`` said with the store it happened to and a hint that fits it."""
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    url = engine.url if engine is not None else None
    path = url.database if url is not None and url.get_backend_name() == "sqlite" else None
    where = path or (url.render_as_string(hide_password=True) if url is not None else "")
    hint = _hint(detail.lower(), path, where)
    return StoreError(
        f"The tracking store {where + ' ' if where else ''}failed: {detail}",
        hint=hint,
        detail=detail,
        store=where or None,
    )


def _hint(text: str, path: str | None, where: str) -> str:
    if path and any(m in text for m in _CORRUPT):
        return (
            f"{path} is damaged or is not a Loom store. Move it aside "
            f"(`mv {path} {path}.broken`, and its -wal and -shm files if any) to start an "
            "empty store there, or put back a copy from a backup."
        )
    if any(m in text for m in _DENIED):
        return (
            f"Check the permissions of {where or 'the database'} and its folder (`ls -ld`): "
            "Loom must be able to read and write both (SQLite adds -wal and -shm files)."
        )
    if any(m in text for m in _FULL):
        return (
            f"The disk holding {where or 'the database'} is full: free some space, then run again."
        )
    if any(m in text for m in _SCHEMA):
        return "The database schema is older than this Loom: run `loom db upgrade`."
    if not path and any(m in text for m in _UNREACHABLE):
        return f"Check that the database server {where} is running and reachable."
    return "Check that the database is reachable and up to date: loom db upgrade"
