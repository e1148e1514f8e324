"""Fixtures for tracking tests: a fresh store on SQLite and on PostgreSQL (own schema)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def fresh_pg_schema(pg_url: str) -> Iterator[str]:
    """A new PostgreSQL schema for one test; yields a URL whose search_path is it."""
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:16]
    plain = pg_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_store_uri(pg_url: str) -> Iterator[str]:
    yield from fresh_pg_schema(pg_url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on a SQLite file and on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'loom.db'}"
    else:
        yield from fresh_pg_schema(request.getfixturevalue("pg_url"))


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the machine's workspace, data dir or a previous test's fluent state."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LOOM_CAPTURE_ENV", "0")  # env capture is tested on purpose, not paid always
    for var in ("LOOM_TRACKING_URI", "LOOM_ARTIFACT_ROOT", "LOOM_FLUSH_INTERVAL"):
        monkeypatch.delenv(var, raising=False)
    yield
    from loom.tracking import fluent

    fluent._runs.clear()
    fluent.set_tracking_uri(None)


@pytest.fixture
def client(store_uri: str):
    from loom.tracking.client import Client

    with Client(store_uri) as c:
        yield c


# -- a loom server for the http backend ---------------------------------------------


@pytest.fixture(scope="session")
def loom_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One server for this process's http tests: (its URL, its SQLite file)."""
    from tests.server.conftest import start_server

    tmp = tmp_path_factory.mktemp("contract-server")
    db = tmp / "loom.db"
    srv = start_server(tmp, "--backend-store-uri", f"sqlite:///{db}")
    try:
        yield srv.url, db
    finally:
        srv.stop()


def empty_store(db: Path) -> None:
    """Back to a new store's rows (the seed template's), autoincrement counters too."""
    import sqlite3

    from loom.store.seed import TEMPLATE

    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("ATTACH DATABASE ? AS tmpl", (f"file:{TEMPLATE}?mode=ro",))
        tables = [row[0] for row in conn.execute("SELECT name FROM tmpl.sqlite_master "
                  "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]  # fmt: skip
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("PRAGMA defer_foreign_keys = ON")
        for t in tables:
            conn.execute(f'DELETE FROM main."{t}"')
            conn.execute(f'INSERT INTO main."{t}" SELECT * FROM tmpl."{t}"')
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            conn.execute("DELETE FROM sqlite_sequence")
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.fixture
def http_uri(loom_server: tuple[str, Path]) -> str:
    """The URL of this process's server, its store as empty as a new one."""
    url, db = loom_server
    empty_store(db)
    return url
