"""Metric history, optionally thinned by min/max bucketing so every spike survives.

The steps between the first and the last point are cut into buckets; each
bucket keeps its lowest and its highest point (and its first NaN, if it has
any), and the first and last points of the series are always kept. A plot of
the result has the same envelope as a plot of every point. The bucketing runs
in SQL (window functions, on SQLite and PostgreSQL alike), so a million-point
series never travels to Python.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, Select, cast, func, select

from loom.errors import ValidationError
from loom.store.base import StoreBase
from loom.store.engine import retrying
from loom.store.entities import Metric
from loom.store.runs import metric_value, require_run
from loom.store.schema import MetricRow
from loom.store.validation import validate_key

_ORDER = (MetricRow.step, MetricRow.timestamp, MetricRow.id)


class HistoryMixin(StoreBase):
    @retrying
    def get_metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> list[Metric]:
        """Every point of ``key`` in step order, or at most ``max_points`` of them.

        >>> len(store.get_metric_history(run_id, "loss", max_points=500)) <= 500
        True
        """
        validate_key(key, "metric")
        if max_points is not None and (isinstance(max_points, bool) or max_points < 3):
            raise ValidationError(
                f"max_points must be at least 3 (first, last and one bucket), got {max_points}."
            )
        m = MetricRow
        series = (m.run_id == run_id, m.key == key)
        with self._read() as conn:
            require_run(conn, run_id)
            count, lo, hi, nans = conn.execute(
                select(
                    func.count(),
                    func.min(m.step),
                    func.max(m.step),
                    func.sum(cast(m.is_nan, Integer)),
                ).where(*series)
            ).one()
            if max_points is None or count <= max_points:
                q = select(m.step, m.timestamp, m.value, m.is_nan).where(*series).order_by(*_ORDER)
            else:
                per_bucket = 3 if nans else 2
                buckets = max(1, (max_points - 2) // per_bucket)
                q = _bucketed(run_id, key, lo, hi, buckets)
            rows = conn.execute(q).all()
        return [Metric(key, metric_value(r.value, r.is_nan), r.timestamp, r.step) for r in rows]


def _bucketed(run_id: str, key: str, lo: int, hi: int, buckets: int) -> Select:
    m = MetricRow
    series = (m.run_id == run_id, m.key == key)
    span = float(hi - lo + 1)
    bucket = cast(cast(m.step - lo, Float) * buckets / span, Integer).label("bucket")
    part = (bucket, m.is_nan)
    ranked = (
        select(
            m.id,
            m.step,
            m.timestamp,
            m.value,
            m.is_nan,
            func.row_number()
            .over(partition_by=part, order_by=(m.value.asc(), *_ORDER))
            .label("rn_min"),
            func.row_number()
            .over(partition_by=part, order_by=(m.value.desc(), *_ORDER))
            .label("rn_max"),
        )
        .where(*series)
        .subquery()
    )
    first = select(m.id).where(*series).order_by(*_ORDER).limit(1).scalar_subquery()
    last = (
        select(m.id)
        .where(*series)
        .order_by(m.step.desc(), m.timestamp.desc(), m.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    r = ranked.c
    return (
        select(r.step, r.timestamp, r.value, r.is_nan)
        .where((r.rn_min == 1) | (r.rn_max == 1) | (r.id == first) | (r.id == last))
        .order_by(r.step, r.timestamp, r.id)
    )
