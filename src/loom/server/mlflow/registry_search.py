"""MLflow's registry search filters, evaluated on entities: ``name LIKE 'rag%'``,
``tags.team = 'search'``, ``run_id IN ('…')``, ``version_number >= 3``; ordering
and paging.

The registry is small next to runs (hundreds of models, not millions of rows),
so the store narrows by name or run id and the rest is matched here, with
MLflow's registry rules: a missing tag matches ``!=`` (the client filters out
prompts with ``tags.`mlflow.prompt.is_prompt` != 'true'``), LIKE is case
sensitive and ILIKE not.

>>> node = parse_filter("name LIKE 'rag%' AND tags.team != 'x'", MODELS)
>>> matches(node, lambda c: {"name": "rag-1"}.get(c.key) if c.kind == "attribute" else None)
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from loom.errors import ValidationError
from loom.store.search.parser import And, Cmp, Grammar, Node, Or, parse_filter, parse_order_bys

__all__ = [
    "MODELS",
    "MODEL_ORDER",
    "VERSIONS",
    "VERSION_ORDER",
    "equal_values",
    "matches",
    "order",
    "page",
    "parse_filter",
]

T = TypeVar("T")

_TAGS = {"tag": "tag", "tags": "tag", "attribute": "attribute", "attributes": "attribute"}
_TIMES = {"creation_timestamp", "last_updated_timestamp"}
MODELS = Grammar(
    _TAGS,
    {
        "name": "name",
        "creation_timestamp": "creation_timestamp",
        "timestamp": "creation_timestamp",
        "last_updated_timestamp": "last_updated_timestamp",
    },
    frozenset(_TIMES),
    {},
)
MODEL_ORDER = frozenset({"name", *_TIMES})
VERSIONS = Grammar(
    _TAGS,
    {
        "name": "name",
        "run_id": "run_id",
        "source_path": "source_path",
        "version_number": "version_number",
        "creation_timestamp": "creation_timestamp",
        "last_updated_timestamp": "last_updated_timestamp",
    },
    frozenset({"version_number", *_TIMES}),
    {},
)
VERSION_ORDER = frozenset({"name", "version_number", *_TIMES})


def matches(node: Node | None, value: Callable[[Cmp], Any]) -> bool:
    """Whether an entity passes ``node``; ``value(cmp)`` is the entity's value for the
    compared attribute or tag (None when it has no such tag)."""
    if node is None:
        return True
    if isinstance(node, And):
        return all(matches(n, value) for n in node.items)
    if isinstance(node, Or):
        return any(matches(n, value) for n in node.items)
    return _compare(node, value(node))


def _compare(c: Cmp, lhs: Any) -> bool:
    if c.op in ("IS NULL", "IS NOT NULL"):
        return (lhs is None) == (c.op == "IS NULL")
    if lhs is None:
        return c.op in ("!=", "NOT IN")
    if isinstance(lhs, int | float):
        lhs = float(lhs)
    rhs = c.value
    if c.op == "=":
        return bool(lhs == rhs)
    if c.op == "!=":
        return bool(lhs != rhs)
    if c.op in ("LIKE", "ILIKE"):
        return _like(str(rhs), c.op == "ILIKE").fullmatch(str(lhs)) is not None
    if c.op in ("IN", "NOT IN"):
        return (lhs in rhs) == (c.op == "IN")  # type: ignore[operator]
    ordered = {"<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs, ">=": lhs >= rhs}
    return bool(ordered[c.op])


@cache
def _like(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """SQL LIKE as a regex: ``%`` any run, ``_`` one character, the rest literal."""
    body = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def equal_values(node: Node | None, key: str) -> list[str] | None:
    """The values ``key`` must take by a top-level ``key = 'v'`` or ``key IN (…)``, so
    the store can narrow by them; None when the filter doesn't pin it."""
    items = node.items if isinstance(node, And) else (node,) if node is not None else ()
    for c in items:
        if isinstance(c, Cmp) and c.kind == "attribute" and c.key == key:
            if c.op == "=":
                return [str(c.value)]
            if c.op == "IN" and isinstance(c.value, tuple):
                return [str(v) for v in c.value]
    return None


def order(
    items: list[T],
    order_by: Sequence[str],
    grammar: Grammar,
    orderable: frozenset[str],
    value: Callable[[T, str], Any],
) -> list[T]:
    """``items`` sorted by MLflow ``order_by`` clauses on the ``orderable`` attributes."""
    keys = []
    for clause, k in zip(order_by, parse_order_bys(order_by, grammar), strict=True):
        if k.kind != "attribute" or k.key not in orderable:
            raise ValidationError(
                f"Invalid order_by clause {clause!r}.",
                hint="Order by " + ", ".join(sorted(orderable)) + ", each ASC or DESC.",
            )
        keys.append(k)
    for k in reversed(keys):  # stable sorts, the last key first
        items = sorted(items, key=lambda it: value(it, k.key), reverse=not k.ascending)
    return items


def page(items: list[T], max_results: int, token: str | None) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token of the next (an offset), if any."""
    start = 0
    if token:
        if not (token.isascii() and token.isdigit()):
            raise ValidationError(f"Invalid page token {token!r}.", hint="Pass the token as given.")
        start = int(token)
    end = start + max_results
    return items[start:end], (str(end) if end < len(items) else None)


def max_results(raw: Any, default: int, limit: int) -> int:
    n = default if raw is None else raw
    if not 1 <= n <= limit:
        raise ValidationError(
            f"Invalid value {n} for parameter 'max_results': it must be at least 1 "
            f"and at most {limit}."
        )
    return int(n)
