"""INSERT … ON CONFLICT for both backends (SQLite ≥ 3.24 and PostgreSQL share the syntax).

Statements are built once per dialect and table: building ``excluded`` costs
more than SQLite's whole insert of a small batch.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(dialect: str, model: Any) -> Any:
    """The dialect's ``insert`` construct, which knows ``on_conflict_do_*``."""
    mod = postgresql if dialect == "postgresql" else sqlite
    return mod.insert(model)


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
