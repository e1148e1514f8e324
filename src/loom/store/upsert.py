"""INSERT … ON CONFLICT for both backends (SQLite ≥ 3.24 and PostgreSQL share the syntax),
and get-or-create, safe under concurrent callers.

Statements are built once per dialect and table: building ``excluded`` costs
more than SQLite's whole insert of a small batch.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, select


def insert_for(dialect: str, model: Any) -> Any:
    """The dialect's ``insert`` construct, which knows ``on_conflict_do_*``."""
    # Imported on use: PostgreSQL's dialect package loads asyncio and asyncpg's dialect,
    # ~90 ms that every command on a SQLite store would pay for nothing.
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(model)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(model)


@functools.cache
def _upsert_stmt(dialect: str, model: Any, keys: tuple[str, ...], update: tuple[str, ...]) -> Any:
    stmt = insert_for(dialect, model)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
    )


@functools.cache
def _ignore_stmt(dialect: str, model: Any) -> Any:
    return insert_for(dialect, model).on_conflict_do_nothing()


def upsert(
    conn: Connection,
    model: Any,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert ``rows``; on a key conflict overwrite the ``update`` columns."""
    if rows:
        stmt = _upsert_stmt(conn.dialect.name, model, tuple(keys), tuple(update))
        conn.execute(stmt, list(rows))


def insert_ignore(conn: Connection, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping those whose key exists."""
    if rows:
        conn.execute(_ignore_stmt(conn.dialect.name, model), list(rows))


def get_or_create(
    conn: Connection, model: Any, key: dict[str, Any], values: dict[str, Any]
) -> tuple[Row, bool]:
    """The row whose unique ``key`` columns hold these values, inserted with ``values``
    if there is none; and whether this call inserted it.

    Many processes may ask for the same new name at once (a sweep's first
    ``set_experiment``): INSERT … ON CONFLICT DO NOTHING never fails on a row that
    another transaction inserted. On PostgreSQL it waits for that transaction,
    and the SELECT after it (a new snapshot under READ COMMITTED) sees the
    winner's row; on SQLite, ``BEGIN IMMEDIATE`` makes writers take turns. Run it
    inside a write transaction. Looking first means an existing row costs one
    SELECT and no sequence value.
    """
    t = model.__table__
    find = select(t).where(*(t.c[k] == v for k, v in key.items()))
    row = conn.execute(find).first()
    if row is not None:
        return row, False
    stmt = insert_for(conn.dialect.name, model).values({**key, **values})
    stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    inserted = conn.execute(stmt).rowcount == 1
    return conn.execute(find).one(), inserted
