from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from loom.errors import StoreError, ValidationError
from loom.store import Store, migrate, open_store
from loom.store.engine import normalize_uri


def test_head_constant_matches_the_scripts() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert scripts.get_current_head() == migrate.HEAD


def test_migrations_ship_inside_the_package() -> None:
    assert (migrate.MIGRATIONS / "env.py").is_file()
    assert list((migrate.MIGRATIONS / "versions").glob("0001_*.py"))


def test_upgrade_is_idempotent(store: Store) -> None:
    store.create_experiment("kept")
    store.upgrade()
    store.upgrade()
    assert store.get_experiment_by_name("kept") is not None
    with store._read() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD


def test_schema_matches_the_orm_models(store: Store) -> None:
    """The migration creates what schema.py declares (autogenerate finds no table or column)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from loom.store.schema import Base

    with store._engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # indexes differ on purpose per backend (see migration 0001); tables and columns may not
    structural = [
        d for d in diffs if d[0] in ("add_table", "remove_table", "add_column", "remove_column")
    ]
    assert structural == []


def test_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    from alembic import command

    uri = f"sqlite:///{tmp_path / 'loom.db'}"
    store = open_store(uri)
    with store._write() as conn:
        command.downgrade(migrate.alembic_config(conn), "base")
    assert sa.inspect(store._engine).get_table_names() == ["alembic_version"]
    store.upgrade()
    assert store.get_experiment("0").name == "Default"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////abs/loom.db", "sqlite:////abs/loom.db"),
    ],
)
def test_uri_normalization(uri: str, expected: str) -> None:
    assert normalize_uri(uri) == expected


@pytest.mark.parametrize("uri", ["", "mysql://x/y", "sqlite://", "sqlite:///:memory:", "file.db"])
def test_bad_uris_are_validation_errors(uri: str) -> None:
    with pytest.raises(ValidationError) as info:
        open_store(uri)
    assert info.value.hint


def test_unreachable_database_is_a_store_error_with_a_hint() -> None:
    with pytest.raises(StoreError) as info:
        open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    assert "failed" in info.value.message and info.value.hint


def test_sqlite_pragmas(sqlite_store: Store) -> None:
    with sqlite_store._read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
