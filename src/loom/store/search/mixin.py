"""``Store.search_runs``: filter, order and page runs in SQL (plans in ``plan.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, Row, Select

from loom.errors import ValidationError
from loom.store.base import StoreBase
from loom.store.engine import retrying
from loom.store.entities import Page, Run, ViewType
from loom.store.experiments import lifecycles
from loom.store.runs import load_runs
from loom.store.schema import RunRow
from loom.store.search.paging import decode_token, encode_token, fingerprint
from loom.store.search.parser import parse_filter, parse_order_bys
from loom.store.search.plan import is_selective, segments
from loom.store.search.sql import compile_filter

MAX_RESULTS = 50_000


class SearchMixin(StoreBase):
    @retrying
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        *,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        view: ViewType = ViewType.ACTIVE_ONLY,
    ) -> Page[Run]:
        """Runs of ``experiment_ids`` matching ``filter_string``, sorted, one page at a time.

        >>> page = store.search_runs(["1"], "metrics.acc > 0.9 and (params.lr = '0.01'"
        ...                          " or tags.team = 'search')", order_by=["metrics.acc DESC"])
        >>> more = store.search_runs(["1"], ..., page_token=page.next_page_token)
        """
        check_max_results(max_results)
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        ids = sorted({_experiment_id(e) for e in experiment_ids})
        node = parse_filter(filter_string)
        keys = parse_order_bys(order_by)
        _check_duplicates(keys, order_by or ())
        stages = lifecycles(view)
        fp = fingerprint(ids, filter_string, list(order_by or ()), stages)
        position = decode_token(page_token, fp)
        where: list[ColumnElement[bool]] = [
            RunRow.experiment_id.in_(ids),
            RunRow.lifecycle_stage.in_(stages),
        ]
        with self._read() as conn:
            walk = not is_selective(conn, node, self.dialect)
            if node is not None:
                where.append(compile_filter(node, self.dialect, probe=walk))
            plan = segments(where, keys, self.dialect, walk=walk)
            rows, positions = _fetch(conn, plan, position, max_results)
            runs = load_runs(conn, rows[:max_results])
        # one row more than asked says whether another page exists, and where it starts
        more = len(rows) > max_results
        token = encode_token(positions[max_results], fp) if more else None
        return Page(items=runs, next_page_token=token)


def _experiment_id(experiment_id: object) -> int:
    # A name here used to match nothing, silently: an empty page looked like "no runs".
    text = str(experiment_id)
    if not (text.isascii() and text.isdigit()) or len(text) > 18:  # int("²") fails
        raise ValidationError(
            f"search_runs takes experiment ids; {text!r} is not one.",
            hint="Look the id up by name (Client.experiment(name), `loom exp list`); "
            "Client.search_runs accepts names too.",
            experiment_id=text,
        )
    return int(text)


def check_max_results(max_results: int) -> None:
    if isinstance(max_results, bool) or not isinstance(max_results, int):
        raise ValidationError(f"max_results must be an integer, got {max_results!r}.")
    if not 1 <= max_results <= MAX_RESULTS:
        raise ValidationError(
            f"max_results must be between 1 and {MAX_RESULTS}, got {max_results!r}.",
            hint="Page through larger results with page_token.",
        )


def _fetch(
    conn: Connection, queries: list[Select], position: tuple[int, int], max_results: int
) -> tuple[list[Row], list[tuple[int, int]]]:
    """Up to max_results + 1 rows from the segments, starting at (segment, offset)."""
    seg, offset = position
    rows: list[Row] = []
    positions: list[tuple[int, int]] = []
    while seg < len(queries) and len(rows) <= max_results:
        want = max_results + 1 - len(rows)
        got = conn.execute(queries[seg].offset(offset).limit(want)).all()
        rows += got
        positions += [(seg, offset + i) for i in range(len(got))]
        seg, offset = seg + 1, 0
    return rows, positions


def _check_duplicates(keys: list, clauses: Sequence[str]) -> None:
    seen = set()
    for key, clause in zip(keys, clauses, strict=True):
        if (key.kind, key.key) in seen:
            raise ValidationError(
                f"order_by names {key.kind} {key.key!r} twice ({clause!r}).",
                hint="Keep one clause per key.",
            )
        seen.add((key.kind, key.key))
