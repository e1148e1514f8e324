"""``Store.search_experiments``: MLflow's experiment filter (name, times, tags), plus OR."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, false, select

from loom.errors import ValidationError
from loom.store.base import StoreBase
from loom.store.engine import retrying
from loom.store.entities import Experiment, Page, ViewType
from loom.store.experiments import experiment_entity, lifecycles, tags_by_experiment
from loom.store.schema import ExperimentRow, ExperimentTagRow
from loom.store.search.mixin import check_max_results
from loom.store.search.paging import decode_token, encode_token, fingerprint
from loom.store.search.parser import (
    EXPERIMENTS,
    Cmp,
    parse_filter,
    parse_order_bys,
)
from loom.store.search.sql import compare, compile_tree

_COLUMNS: dict[str, Any] = {
    "name": ExperimentRow.name,
    "experiment_id": ExperimentRow.experiment_id,
    "creation_time": ExperimentRow.creation_time,
    "last_update_time": ExperimentRow.last_update_time,
}


class ExperimentSearchMixin(StoreBase):
    @retrying
    def search_experiments(
        self,
        view: ViewType = ViewType.ACTIVE_ONLY,
        filter_string: str = "",
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        """Experiments matching e.g. ``"name LIKE 'rag%' and tags.team = 'search'"``.

        Default order: creation_time DESC, then id (as MLflow).

        >>> store.search_experiments(filter_string="name ILIKE '%rag%'").items  # doctest: +SKIP
        """
        check_max_results(max_results)
        stages = lifecycles(view)
        node = parse_filter(filter_string, EXPERIMENTS)
        keys = parse_order_bys(order_by, EXPERIMENTS)
        fp = fingerprint("experiments", filter_string, list(order_by or ()), stages)
        _, offset = decode_token(page_token, fp)
        q = select(ExperimentRow).where(ExperimentRow.lifecycle_stage.in_(stages))
        if node is not None:
            q = q.where(compile_tree(node, lambda c: _comparison(c, self.dialect)))
        clauses: list[Any] = []
        for k in keys:
            col = _COLUMNS[k.key] if k.kind == "attribute" else _tag_value(k.key)
            value = col.collate("C") if self.dialect == "postgresql" and k.key == "name" else col
            clauses += [
                case((col.is_(None), 1), else_=0),
                value.asc() if k.ascending else value.desc(),
            ]
        if not any(k.key == "creation_time" for k in keys):
            clauses.append(ExperimentRow.creation_time.desc())
        q = q.order_by(*clauses, ExperimentRow.experiment_id).offset(offset).limit(max_results + 1)
        with self._read() as conn:
            rows = conn.execute(q).all()
            tags = tags_by_experiment(conn, [r.experiment_id for r in rows[:max_results]])
        items = [experiment_entity(r, tags.get(r.experiment_id, {})) for r in rows[:max_results]]
        more = len(rows) > max_results
        token = encode_token((0, offset + max_results), fp) if more else None
        return Page(items=items, next_page_token=token)


def _tag_value(key: str) -> Any:
    t = ExperimentTagRow
    return (
        select(t.value)
        .where(t.experiment_id == ExperimentRow.experiment_id, t.key == key)
        .scalar_subquery()
    )


def _comparison(c: Cmp, dialect: str) -> ColumnElement[bool]:
    if c.kind == "attribute":
        col, value = _COLUMNS[c.key], c.value
        if c.key == "experiment_id":  # ids are strings outside, integers inside
            if c.op in ("LIKE", "ILIKE"):
                raise ValidationError(f"{c.op} does not apply to experiment_id; use = or IN.")
            ints = [
                int(v)
                for v in (value if isinstance(value, tuple) else (value,))
                if v.isascii() and v.isdigit()
            ]
            if c.op in ("=", "IN") and not ints:
                return false()
            value = tuple(ints) if isinstance(value, tuple) else (ints[0] if ints else -1)
        return compare(col, c.op, value, dialect, is_text=c.key == "name")
    t = ExperimentTagRow
    has_key = select(1).where(t.experiment_id == ExperimentRow.experiment_id, t.key == c.key)
    if c.op in ("IS NULL", "IS NOT NULL"):
        return ~has_key.exists() if c.op == "IS NULL" else has_key.exists()
    return has_key.where(compare(t.value, c.op, c.value, dialect, is_text=True)).exists()
