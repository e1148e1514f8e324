"""Filter AST → SQLAlchemy expressions. Values are always bound parameters.

A comparison on a metric, param or tag becomes a correlated ``EXISTS (SELECT
1 FROM <table> WHERE run_id = runs.run_id AND key = :k AND <cond>)``: a
primary-key probe per candidate run, so a query that walks runs in the
wanted order stops after one page. A run that lacks the key matches nothing,
``!=`` included, as in MLflow. NaN is stored as NULL with ``is_nan``, so it
fails every comparison except ``!=``, which adds ``OR is_nan``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import aliased

from loom.store.schema import LatestMetricRow, ParamRow, RunRow, TagRow
from loom.store.search.parser import And, Cmp, Node, Or, SortKey

_TABLES: dict[str, Any] = {"metric": LatestMetricRow, "param": ParamRow, "tag": TagRow}
_COLUMNS: dict[str, Any] = {
    "run_id": RunRow.run_id,
    "run_name": RunRow.name,
    "status": RunRow.status,
    "start_time": RunRow.start_time,
    "end_time": RunRow.end_time,
    "user_id": RunRow.user,
    "lifecycle_stage": RunRow.lifecycle_stage,
}
PG_PREFIX = 200  # the PostgreSQL (key, left(value, 200)) index of migration 0001


def compile_tree(node: Node, leaf: Callable[[Cmp], ColumnElement[bool]]) -> ColumnElement[bool]:
    """A parsed filter as one SQL condition: AND and OR as SQL's, ``leaf`` for each
    comparison (runs, experiments and logged models each compare their own columns)."""
    if isinstance(node, And):
        return and_(*(compile_tree(n, leaf) for n in node.items))
    if isinstance(node, Or):
        return or_(*(compile_tree(n, leaf) for n in node.items))
    return leaf(node)


def compile_filter(node: Node, dialect: str, *, probe: bool = True) -> ColumnElement[bool]:
    """``probe``: correlated EXISTS per run (for walking runs in order); otherwise
    ``run_id IN (subquery)``, which lets the database start from the few matches."""
    return compile_tree(node, lambda c: _comparison(c, dialect, probe))


def leaf_condition(c: Cmp, dialect: str) -> tuple[Any, ColumnElement[bool]] | None:
    """(table, condition) of a metric/param/tag comparison; None for other kinds."""
    if c.kind == "attribute" or c.op in ("IS NULL", "IS NOT NULL"):
        return None
    table = _TABLES[c.kind]
    if c.kind == "metric":
        cond = compare(table.value, c.op, c.value, dialect, is_text=False)
        if c.op in ("!=", "NOT IN"):
            cond = or_(cond, table.is_nan.is_(true()))
    else:
        cond = compare(table.value, c.op, c.value, dialect, is_text=True)
        if dialect == "postgresql" and c.op == "=":
            # the form of PostgreSQL's prefix index; for a value shorter than the
            # prefix it is the whole test (and two tests would halve the row estimate)
            value = str(c.value)  # "=" on a param or tag compares text
            prefix = func.left(table.value, PG_PREFIX) == value[:PG_PREFIX]
            cond = prefix if len(value) < PG_PREFIX else and_(prefix, cond)
    return table, and_(table.key == c.key, cond)


def _text(col: Any, dialect: str) -> Any:
    # byte order on both backends: SQLite's BINARY is codepoint order, PG needs "C"
    return col.collate("C") if dialect == "postgresql" else col


def compare(col: Any, op: str, value: Any, dialect: str, *, is_text: bool) -> Any:
    if op == "LIKE":
        return col.like(value)
    if op == "ILIKE":
        return col.ilike(value)
    if op == "IN":
        return col.in_(list(value))
    if op == "NOT IN":
        return col.not_in(list(value))
    if op in ("=", "!="):
        return col == value if op == "=" else col != value
    if is_text:
        col = _text(col, dialect)
    return {"<": col < value, "<=": col <= value, ">": col > value, ">=": col >= value}[op]


def _comparison(c: Cmp, dialect: str, probe: bool) -> ColumnElement[bool]:
    if c.kind == "attribute":
        col = _COLUMNS[c.key]
        is_text = c.key not in ("start_time", "end_time")
        return compare(col, c.op, c.value, dialect, is_text=is_text)
    table = _TABLES[c.kind]
    leaf = leaf_condition(c, dialect)
    if leaf is None:  # IS [NOT] NULL
        has_key = select(1).where(table.run_id == RunRow.run_id, table.key == c.key).exists()
        return ~has_key if c.op == "IS NULL" else has_key
    if probe:
        return select(1).where(table.run_id == RunRow.run_id, leaf[1]).exists()
    return RunRow.run_id.in_(select(table.run_id).where(leaf[1]))


def sort_clauses(keys: list[SortKey], dialect: str, first: int = 0) -> tuple[list, list]:
    """(outer joins, ORDER BY clauses) for ``keys``, numbering aliases from ``first``.

    Metrics: numbers, then NaN, then missing — in ASC and DESC alike.
    Params, tags and attributes: values (strings in byte order), then missing.
    """
    joins: list[Any] = []
    clauses: list[Any] = []
    for i, k in enumerate(keys, start=first):
        if k.kind == "attribute":
            col = _COLUMNS[k.key]
            value = _text(col, dialect) if k.key not in ("start_time", "end_time") else col
            if col.nullable:  # missing last, as MLflow; the rest stay index-friendly
                clauses.append(case((col.is_(None), 1), else_=0))
            clauses.append(value.asc() if k.ascending else value.desc())
            continue
        alias = aliased(_TABLES[k.kind], name=f"o{i}")
        joins.append((alias, and_(alias.run_id == RunRow.run_id, alias.key == k.key)))
        if k.kind == "metric":
            rank = case((alias.is_nan.is_(true()), 1), (alias.run_id.is_(None), 2), else_=0)
            value = alias.value
        else:
            rank = case((alias.run_id.is_(None), 1), else_=0)
            value = _text(alias.value, dialect)
        clauses.append(rank)
        clauses.append(value.asc() if k.ascending else value.desc())
    return joins, clauses


def tie_breaks(keys: list[SortKey]) -> list[Any]:
    """MLflow's: start_time DESC (unless sorted on already), then run id."""
    if any(k.kind == "attribute" and k.key == "start_time" for k in keys):
        return [RunRow.run_id.asc()]
    return [RunRow.start_time.desc(), RunRow.run_id.asc()]


def driver_table(kind: str) -> Any:
    return _TABLES[kind]


def sort_value(alias: Any, dialect: str, kind: str) -> Any:
    return alias.value if kind == "metric" else _text(alias.value, dialect)
