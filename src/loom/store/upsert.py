"""INSERT … ON CONFLICT for both backends (SQLite ≥ 3.24 and PostgreSQL share the syntax)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(conn: Connection, model: Any):
    """The dialect's ``insert`` construct, which knows ``on_conflict_do_*``."""
    mod = postgresql if conn.dialect.name == "postgresql" else sqlite
    return mod.insert(model)


def upsert(
    conn: Connection,
    model: Any,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
    where: ColumnElement[bool] | None = None,
) -> None:
    """Insert ``rows``; on a key conflict overwrite the ``update`` columns (if ``where``)."""
    if not rows:
        return
    stmt = insert_for(conn, model)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: stmt.excluded[c] for c in update},
        where=where,
    )
    conn.execute(stmt, list(rows))


def insert_ignore(conn: Connection, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    conn.execute(insert_for(conn, model).on_conflict_do_nothing(), list(rows))
