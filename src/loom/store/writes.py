"""Writing to a run: params, metrics and tags in one batch; inputs; artifacts."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select

from loom.errors import ConflictError, NotFoundError
from loom.store.base import StoreBase, chunks, in_folder
from loom.store.engine import retrying
from loom.store.entities import Artifact, Metric, RunInput, RunStatus
from loom.store.runs import artifact_rows, require_run, set_run_fields, status_value
from loom.store.schema import (
    ArtifactRow,
    InputRow,
    LatestMetricRow,
    LoggedModelFileRow,
    MetricRow,
    ParamRow,
    TagRow,
)
from loom.store.upsert import insert_for, insert_ignore, upsert
from loom.store.validation import (
    METRIC_COLUMNS,
    metric_tuples,
    validate_inputs,
    validate_params,
    validate_run_id,
    validate_tags,
)


class WritesMixin(StoreBase):
    @retrying
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Write metrics, params and tags in ONE transaction: all of it or none.

        Params are write-once: the same value again is fine, another value is a
        :class:`ConflictError` naming the key and both values.

        >>> store.log_batch(run.run_id, [Metric("loss", 0.5, 1700000000000, step=1)],
        ...                 params={"lr": "0.001"}, tags={"stage": "dev"})
        """
        validate_run_id(run_id)
        metric_rows = metric_tuples(run_id, metrics)
        params = validate_params(params or {})
        tags = validate_tags(tags)
        with self._write() as conn:
            require_run(conn, run_id, active=True)
            _write_batch(conn, run_id, metric_rows, params, tags)

    def end_run(
        self,
        run_id: str,
        status: RunStatus | str,
        end_time: int,
        metrics: Sequence[Metric] = (),
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """A run's last metrics and tags and its final status in ONE transaction.

        With no metrics or tags this is ``update_run(run_id, status=…, end_time=…)``
        (a deleted run may be ended); with them, the run must be active, as for
        :meth:`log_batch`.

        >>> store.end_run(run.run_id, "FINISHED", 1700000000000, tags={"stage": "done"})
        """
        self._end_run(run_id, status, end_time, metrics, tags)
        # The run's process has likely written its last row: fold the WAL into the
        # file now, so a copy of loom.db alone holds this run.
        self.checkpoint()

    @retrying
    def _end_run(
        self,
        run_id: str,
        status: RunStatus | str,
        end_time: int,
        metrics: Sequence[Metric],
        tags: Mapping[str, str] | None,
    ) -> None:
        metric_rows = metric_tuples(validate_run_id(run_id), metrics)
        tags = validate_tags(tags)
        values = {"status": status_value(status), "end_time": int(end_time)}
        with self._write() as conn:
            if metric_rows or tags:
                require_run(conn, run_id, active=True)  # a deleted run's data can't change
                _write_batch(conn, run_id, metric_rows, {}, tags)
            if set_run_fields(conn, run_id, values).rowcount == 0:
                require_run(conn, run_id)  # no such run: NotFoundError

    @retrying
    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        """Record data versions the run consumed; logging the same input twice keeps one."""
        validate_inputs(inputs)
        with self._write() as conn:
            require_run(conn, run_id, active=True)
            seen = {
                (r.path, r.hash, r.git_rev, r.name)
                for r in conn.execute(select(InputRow).where(InputRow.run_id == run_id))
            }
            rows = []
            for i in inputs:
                ident = (i.path, i.hash, i.git_rev, i.name)
                if ident not in seen:
                    seen.add(ident)
                    rows.append({"run_id": run_id, **_input_fields(i)})
            if rows:
                conn.execute(insert(InputRow), rows)

    @retrying
    def log_artifacts(self, run_id: str, artifacts: Sequence[Artifact]) -> None:
        """Record ``path -> (hash, size)``; logging a path again replaces it."""
        rows = artifact_rows(run_id, artifacts)
        with self._write() as conn:
            require_run(conn, run_id, active=True)
            for part in chunks(rows):
                upsert(conn, ArtifactRow, part, ["run_id", "path"], ["hash", "size"])

    @retrying
    def list_artifacts(self, run_id: str, prefix: str | None = None) -> list[Artifact]:
        """Artifacts sorted by path; ``prefix`` is a folder: ``"reports"`` lists
        ``reports/a.html`` but not ``reports2/b``."""
        with self._read() as conn:
            require_run(conn, run_id)
            q = select(ArtifactRow).where(ArtifactRow.run_id == run_id)
            folder = (prefix or "").strip("/")
            if folder:
                q = q.where(in_folder(ArtifactRow.path, folder))
            rows = conn.execute(q.order_by(ArtifactRow.path)).all()
            return [Artifact(r.path, r.hash, r.size) for r in rows]

    @retrying
    def artifact_hashes(self) -> set[str]:
        """Every object any run's artifacts name, deleted runs included, and the files
        MLflow clients uploaded into logged models (for ``loom gc``)."""
        with self._read() as conn:
            found = set(conn.execute(select(ArtifactRow.hash).distinct()).scalars())
            found.update(conn.execute(select(LoggedModelFileRow.hash).distinct()).scalars())
            return found


def _write_batch(
    conn: Connection,
    run_id: str,
    metric_rows: list[tuple],
    params: dict[str, str],
    tags: dict[str, str],
) -> None:
    if params:
        _write_params(conn, run_id, params)
    if metric_rows:
        _insert_history(conn, metric_rows)
        _update_latest(conn, _latest_per_key(metric_rows))
    if tags:
        rows = [{"run_id": run_id, "key": k, "value": v} for k, v in sorted(tags.items())]
        upsert(conn, TagRow, rows, ["run_id", "key"], ["value"])


def _input_fields(i: RunInput) -> dict[str, Any]:
    return {
        "path": i.path,
        "hash": i.hash,
        "size": i.size,
        "kind": i.kind,
        "git_rev": i.git_rev,
        "name": i.name,
        "modified": bool(i.modified),
    }


_STORED_PARAMS = select(ParamRow.key, ParamRow.value).where(
    ParamRow.run_id == bindparam("run_id"), ParamRow.key.in_(bindparam("keys", expanding=True))
)


def _write_params(conn: Connection, run_id: str, params: dict[str, str]) -> None:
    stored: dict[str, str] = {}
    for part in chunks(list(params)):
        rows = conn.execute(_STORED_PARAMS, {"run_id": run_id, "keys": part})
        stored.update({k: v for k, v in rows})
    for key, old in stored.items():
        if params[key] != old:
            raise ConflictError(
                f"Param {key!r} of run {run_id} is already {old!r}; "
                f"it can't be changed to {params[key]!r} (params are write-once).",
                hint="Log the new value under another key, or start a new run.",
                key=key,
                old_value=old,
                new_value=params[key],
            )
    new = [
        {"run_id": run_id, "key": k, "value": v}
        for k, v in sorted(params.items())
        if k not in stored
    ]
    insert_ignore(conn, ParamRow, new)


def _insert_history(conn: Connection, rows: list[tuple]) -> None:
    """executemany on the driver: SQLAlchemy's per-row parameter work would cost more
    than SQLite's insert. Only constant names are formatted in; values are bound."""
    quote = conn.dialect.identifier_preparer.quote
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(MetricRow.__tablename__),
        ", ".join(quote(c) for c in METRIC_COLUMNS),
        ", ".join([mark] * len(METRIC_COLUMNS)),
    )
    conn.exec_driver_sql(sql, rows)


def _latest_per_key(rows: list[tuple]) -> list[dict[str, Any]]:
    # MLflow's "latest": highest step, then latest timestamp, then largest value (NaN
    # lowest). The order key is built once per row, inline: this runs for every point.
    best: dict[str, tuple[tuple, tuple]] = {}
    get = best.get
    for row in rows:
        _run, key, value, is_nan, timestamp, step = row
        rank = (step, timestamp, not is_nan, value or 0.0)
        cur = get(key)
        if cur is None or rank > cur[0]:
            best[key] = (rank, row)
    # rows in key order: two writers upserting the same keys lock them in the same
    # order, so PostgreSQL can't deadlock them
    return [dict(zip(METRIC_COLUMNS, best[k][1], strict=True)) for k in sorted(best)]


def _update_latest(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Upsert the latest-metric rows, keeping a stored one that is later than the new one."""
    stmt = _latest_upsert(conn.dialect.name)
    for part in chunks(rows):
        conn.execute(stmt, part)


@functools.cache
def _latest_upsert(dialect: str) -> Any:
    t = LatestMetricRow.__table__
    stmt = insert_for(dialect, LatestMetricRow)
    new = stmt.excluded
    later = (
        (new.step > t.c.step)
        | ((new.step == t.c.step) & (new.timestamp > t.c.timestamp))
        | (
            (new.step == t.c.step)
            & (new.timestamp == t.c.timestamp)
            & ((new.value > t.c.value) | (t.c.value.is_(None) & new.value.isnot(None)))
        )
    )
    return stmt.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={c: new[c] for c in ("value", "is_nan", "timestamp", "step")},
        where=later,
    )


class TagDeletesMixin(StoreBase):
    """MLflow's ``runs/delete-tag`` and ``experiments/delete-experiment-tag``."""

    @retrying
    def delete_run_tag(self, run_id: str, key: str) -> None:
        """NotFoundError if the run has no tag ``key`` (as MLflow)."""
        validate_run_id(run_id)
        with self._write() as conn:
            require_run(conn, run_id, active=True)
            gone = conn.execute(delete(TagRow).where(TagRow.run_id == run_id, TagRow.key == key))
            if not gone.rowcount:
                raise NotFoundError(f"No tag with name: {key} in run with id {run_id}.")

    @retrying
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        from loom.store.schema import ExperimentTagRow
        from loom.store.validation import parse_experiment_id

        eid = parse_experiment_id(experiment_id)
        with self._write() as conn:
            gone = conn.execute(
                delete(ExperimentTagRow).where(
                    ExperimentTagRow.experiment_id == eid, ExperimentTagRow.key == key
                )
            )
            if not gone.rowcount:
                raise NotFoundError(
                    f"No tag with name: {key} in experiment with id {experiment_id}."
                )
