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
