"""Search plans: the sorted result as a few segments that each walk an index in order.

Sorting on a metric puts numbers first, then NaN, then runs without the key.
Written as one ``ORDER BY CASE … END, value`` the database must find and sort
every match before it returns the first page (0.5-1 s at 100,000 runs on
SQLite). Split into segments — runs with a number (walked through the
``(key, value)`` index in order), runs with NaN, runs without the key — the
first segment stops after one page: ~20 ms at 100,000 runs. A page token
records the segment and the offset in it.

On SQLite the numbers segment is ``o0 CROSS JOIN runs``: SQLite never reorders
a CROSS JOIN, so it must walk the index instead of sorting, whatever its
estimates say; PostgreSQL treats it as an ordinary join.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import Join

from loom.store.schema import RunRow
from loom.store.search.parser import And, Node, Or, SortKey
from loom.store.search.sql import (
    driver_table,
    leaf_condition,
    sort_clauses,
    sort_value,
    tie_breaks,
)


class CrossJoin(Join):
    """``left CROSS JOIN right``; the join condition goes in WHERE."""

    inherit_cache = True

    def __init__(self, left: Any, right: Any) -> None:
        super().__init__(left, right, onclause=true())


@compiles(CrossJoin)
def _compile_cross_join(element: CrossJoin, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    left = compiler.process(element.left, **kw)
    right = compiler.process(element.right, **kw)
    return f"{left} CROSS JOIN {right}"


def segments(
    where: list[ColumnElement[bool]], keys: list[SortKey], dialect: str, *, walk: bool = True
) -> list[Select]:
    """The ordered queries whose concatenation is the sorted result (no offset/limit yet).

    ``walk``: force SQLite to walk the sort index (CROSS JOIN); off for selective filters.
    """
    if not keys or keys[0].kind == "attribute":
        joins, clauses = sort_clauses(keys, dialect)
        return [_with_joins(select(RunRow).where(*where), RunRow.__table__, joins, clauses, keys)]
    first, rest = keys[0], keys[1:]
    joins, clauses = sort_clauses(rest, dialect, first=1)
    o = aliased(driver_table(first.kind), name="o0")
    on = and_(o.run_id == RunRow.run_id, o.key == first.key)
    value = sort_value(o, dialect, first.kind)
    ordered = [value.asc() if first.ascending else value.desc(), *clauses]
    table = RunRow.__table__
    present = CrossJoin(o, table) if walk else Join(o, table, true())
    out = []
    if first.kind == "metric":
        numbers = select(RunRow).where(on, o.value.isnot(None), *where)
        out.append(_with_joins(numbers, present, joins, ordered, keys))
        nans = select(RunRow).where(on, o.value.is_(None), o.is_nan.is_(true()), *where)
        out.append(_with_joins(nans, present, joins, clauses, keys))
    else:
        out.append(_with_joins(select(RunRow).where(on, *where), present, joins, ordered, keys))
    has_key = select(1).where(on).exists()
    missing = select(RunRow).where(~has_key, *where)
    out.append(_with_joins(missing, RunRow.__table__, joins, clauses, keys))
    return out


def _with_joins(q: Select, from_: Any, joins: list, clauses: list, keys: list[SortKey]) -> Select:
    for alias, on in joins:
        from_ = from_.outerjoin(alias, on)
    return q.select_from(from_).order_by(*clauses, *tie_breaks(keys))


SELECTIVE = 2000  # a filter leaf matching at most this many runs starts the query


def is_selective(conn: Connection, node: Node | None, dialect: str) -> bool:
    """Whether the filter surely matches few runs: an AND with one such part, an OR
    whose every branch is such, or a comparison matching at most SELECTIVE runs.

    Then the database should start from those runs (``IN`` subqueries, plain
    joins) and sort them, instead of walking every run in sort order and
    probing the filter: that walk is what makes a page fast for a broad
    filter, and it would visit all runs for a narrow one. Counting stops at
    SELECTIVE + 1, so asking costs at most a short index range scan per leaf.
    """
    if node is None:
        return False
    if isinstance(node, And):
        return any(is_selective(conn, n, dialect) for n in node.items)
    if isinstance(node, Or):
        return all(is_selective(conn, n, dialect) for n in node.items)
    if node.kind == "attribute":
        return node.key == "run_id" and node.op in ("=", "IN")
    found = leaf_condition(node, dialect)
    if found is None or node.op not in ("=", "IN", "<", "<=", ">", ">="):
        return False
    table, cond = found
    capped = select(table.run_id).where(cond).limit(SELECTIVE + 1).subquery()
    return conn.execute(select(func.count()).select_from(capped)).scalar_one() <= SELECTIVE
