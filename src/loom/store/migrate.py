"""Apply the store's Alembic migrations, safely when many processes open it at once.

Opening a store that is already at :data:`HEAD` costs one small query and
never imports Alembic. Otherwise the upgrade runs inside one transaction that
first takes a lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL); a process that waited re-reads the version and finds nothing to do.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

HEAD = "0005"  # tests/store/test_migrations.py checks it against the scripts
MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_KEY = 0x4C6F6F6D  # "Loom"


def current_revision(conn: Connection) -> str | None:
    """The revision in ``alembic_version``, or None on an empty database."""
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def needs_upgrade(engine: Engine) -> bool:
    with engine.connect() as conn:
        rev = current_revision(conn)
        conn.rollback()
    return rev != HEAD


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is there."""
    if not needs_upgrade(engine):
        return
    from alembic import command  # imported only when there is work to do

    with engine.connect() as conn:
        conn = conn.execution_options(loom_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            if _revision_in_tx(conn) == HEAD:
                return
            command.upgrade(alembic_config(conn), "head")


def _revision_in_tx(conn: Connection) -> str | None:
    # A failed SELECT would abort a PostgreSQL transaction, so ask the catalog first.
    from sqlalchemy import inspect

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def alembic_config(conn: Connection | None = None):  # -> alembic.config.Config
    """An Alembic Config built in code; no alembic.ini is needed at runtime."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg
