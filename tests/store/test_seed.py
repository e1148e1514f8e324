"""A new SQLite store is a copy of ``empty.sqlite``: it must hold exactly what the migrations
build, appear without Alembic being imported, and never replace a file already there."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine

from loom.store import seed
from loom.store.migrate import HEAD, upgrade

REBUILD = (
    'python -c "from loom.store.seed import build, TEMPLATE; build(TEMPLATE)"'
    " writes it anew from the migrations"
)


def _schema(path: Path) -> tuple[set, list]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        return set(rows), conn.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        conn.close()


def test_the_template_is_what_the_migrations_build(tmp_path: Path) -> None:
    migrated = tmp_path / "migrated.db"
    engine = create_engine(f"sqlite:///{migrated}")  # no seed: Alembic builds it
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    assert _schema(seed.TEMPLATE) == _schema(migrated), f"empty.sqlite is stale: {REBUILD}"
    assert _schema(seed.TEMPLATE)[1] == [(HEAD,)]


def test_a_new_store_needs_no_alembic(tmp_path: Path) -> None:
    probe = (
        "import sys; from loom.store.store import open_store\n"
        f"open_store('sqlite:///{tmp_path / 'new' / 'loom.db'}')\n"
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
    assert _schema(tmp_path / "new" / "loom.db")[1] == [(HEAD,)]


def test_a_file_already_there_is_never_replaced(tmp_path: Path) -> None:
    there = tmp_path / "loom.db"
    there.write_bytes(b"another process's store")
    assert seed.seed(there) is False
    assert there.read_bytes() == b"another process's store"
    assert [p.name for p in tmp_path.iterdir()] == ["loom.db"]  # no temp file left
