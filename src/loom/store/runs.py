"""Runs: create, read (with params, latest metrics, tags, inputs), update, soft delete."""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    Row,
    Table,
    bindparam,
    func,
    insert,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from loom.errors import AlreadyExistsError, ConflictError, NotFoundError, ValidationError
from loom.store.base import StoreBase, chunks, now_ms
from loom.store.engine import retrying
from loom.store.entities import Artifact, Lifecycle, Run, RunInput, RunStatus
from loom.store.names import generate_run_name
from loom.store.schema import (
    ArtifactRow,
    ExperimentRow,
    InputRow,
    LatestMetricRow,
    ParamRow,
    RunRow,
    TagRow,
)
from loom.store.validation import (
    parse_experiment_id,
    validate_artifacts,
    validate_run_id,
    validate_run_name,
    validate_tags,
)


class RunsMixin(StoreBase):
    @retrying
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        start_time: int | None = None,
        user: str | None = None,
        tags: dict[str, str] | None = None,
        run_id: str | None = None,
        artifacts: Sequence[Artifact] = (),
    ) -> Run:
        """Start a RUNNING run in an active experiment, with its first tags and artifacts
        (the environment a client records) in the same transaction.

        >>> run = store.create_run("0", name="exp-001", tags={"team": "search"})
        >>> run.status
        <RunStatus.RUNNING: 'RUNNING'>
        """
        eid = parse_experiment_id(experiment_id)
        run_id = uuid.uuid4().hex if run_id is None else validate_run_id(run_id)
        name = validate_run_name(name) if name is not None else generate_run_name()
        tags = validate_tags(tags)
        art_rows = artifact_rows(run_id, artifacts)
        row: dict[str, Any] = {
            "run_id": run_id,
            "experiment_id": eid,
            "name": name,
            "status": RunStatus.RUNNING.value,
            "start_time": now_ms() if start_time is None else int(start_time),
            "end_time": None,
            "user": user,
            "lifecycle_stage": Lifecycle.ACTIVE.value,
        }
        try:
            with self._write() as conn:
                _require_active_experiment(conn, eid, experiment_id)
                conn.execute(insert(RunRow), row)
                if tags:
                    conn.execute(
                        insert(TagRow),
                        [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()],
                    )
                if art_rows:
                    conn.execute(insert(ArtifactRow), art_rows)
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"A run with id {run_id!r} already exists.", run_id=run_id
            ) from exc
        return Run(
            run_id=run_id,
            experiment_id=str(eid),
            name=name,
            status=RunStatus.RUNNING,
            start_time=row["start_time"],
            user=user,
            tags=dict(tags),
        )

    @retrying
    def get_run(self, run_id: str) -> Run:
        """The run with its params, latest metrics, tags and inputs; NotFoundError if none."""
        validate_run_id(run_id)
        with self._read() as conn:
            row = conn.execute(select(RunRow).where(RunRow.run_id == run_id)).first()
            if row is None:
                raise _no_run(run_id)
            return load_runs(conn, [row])[0]

    @retrying
    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> None:
        """Change status, end time or name; other fields are immutable."""
        values: dict[str, object] = {}
        if status is not None:
            values["status"] = status_value(status)
        if end_time is not None:
            values["end_time"] = int(end_time)
        if name is not None:
            values["name"] = validate_run_name(name)
        with self._write() as conn:
            if not values:
                require_run(conn, run_id)
                return
            validate_run_id(run_id)
            # the UPDATE's row count says whether the run exists: no SELECT first
            done = set_run_fields(conn, run_id, values)
            if done.rowcount == 0:
                raise _no_run(run_id)

    def delete_run(self, run_id: str) -> None:
        """Soft delete: hidden from active searches, restorable."""
        self._set_run_lifecycle(run_id, Lifecycle.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_lifecycle(run_id, Lifecycle.ACTIVE)

    @retrying
    def list_runs_by_status(self, status: RunStatus) -> list[Run]:
        """Active runs in ``status`` (e.g. RUNNING ones, to mark crashed runs KILLED)."""
        status = RunStatus(status)
        with self._read() as conn:
            rows = conn.execute(
                select(RunRow)
                .where(RunRow.status == status.value, RunRow.lifecycle_stage == "active")
                .order_by(RunRow.start_time, RunRow.run_id)
            ).all()
            return load_runs(conn, rows)

    @retrying
    def last_activity(self, run_ids: Sequence[str]) -> dict[str, int]:
        """When each run last showed life: its latest metric's timestamp, else its start
        (milliseconds). Reads the latest-metrics rows (one per key), never the history:
        what ``mark_stale`` takes as a dead run's end time. Unknown ids are left out."""
        out: dict[str, int] = {}
        latest = func.max(LatestMetricRow.timestamp)
        for part in chunks(list(dict.fromkeys(run_ids))):
            q = (
                select(RunRow.run_id, RunRow.start_time, latest)
                .outerjoin(LatestMetricRow, LatestMetricRow.run_id == RunRow.run_id)
                .where(RunRow.run_id.in_(part))
                .group_by(RunRow.run_id, RunRow.start_time)
            )
            with self._read() as conn:
                for run_id, start, last in conn.execute(q):
                    out[run_id] = max(start, last if last is not None else start)
        return out

    @retrying
    def run_id_prefixes(self, run_ids: Sequence[str], min_length: int = 8) -> dict[str, str]:
        """For each id, its shortest prefix (at least ``min_length``) that no other run in
        the store shares, deleted runs included.

        Ids sharing a prefix are neighbours in key order, so each id needs only the
        ids just below and above it: two range queries on the primary key, sent as
        one statement for up to 200 ids (a page is one round trip).
        """
        ids = sorted({validate_run_id(r) for r in run_ids})
        known = set(ids)
        for part in chunks(ids, 200):  # 400 terms: under SQLite's 500 per compound SELECT
            terms = []
            for rid in part:
                terms.append(select(func.max(RunRow.run_id)).where(RunRow.run_id < rid))
                terms.append(select(func.min(RunRow.run_id)).where(RunRow.run_id > rid))
            with self._read() as conn:
                known.update(r for (r,) in conn.execute(union_all(*terms)) if r is not None)
        # each id's true neighbours are in `known`, and nothing in `known` lies between
        # an id and its true neighbour: so neighbours in `known` are the store's
        order = sorted(known)
        where = {rid: i for i, rid in enumerate(order)}
        out = {}
        for rid in ids:
            i = where[rid]
            near = [order[j] for j in (i - 1, i + 1) if 0 <= j < len(order)]
            shared = max((_common_prefix(rid, n) for n in near), default=0)
            out[rid] = rid[: max(min_length, shared + 1)]
        return out

    @retrying
    def _set_run_lifecycle(self, run_id: str, stage: Lifecycle) -> None:
        with self._write() as conn:
            require_run(conn, run_id)
            conn.execute(
                update(RunRow).where(RunRow.run_id == run_id).values(lifecycle_stage=stage.value)
            )


# built once: these run for every logged batch
_RUN_STAGE = select(RunRow.run_id, RunRow.lifecycle_stage).where(
    RunRow.run_id == bindparam("run_id")
)
_EXPERIMENT_STAGE = select(ExperimentRow.lifecycle_stage).where(
    ExperimentRow.experiment_id == bindparam("eid")
)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _no_run(run_id: str) -> NotFoundError:
    return NotFoundError(f"No run with id {run_id!r}.", hint="loom runs list", run_id=run_id)


def require_run(conn: Connection, run_id: str, *, active: bool = False) -> Row:
    """The run's row; NotFoundError if missing, ConflictError if deleted and ``active``."""
    validate_run_id(run_id)
    row = conn.execute(_RUN_STAGE, {"run_id": run_id}).first()
    if row is None:
        raise _no_run(run_id)
    if active and row.lifecycle_stage != Lifecycle.ACTIVE.value:
        raise ConflictError(
            f"Run {run_id} is deleted; it can't be changed.",
            hint=f"loom runs restore {run_id}",
            run_id=run_id,
        )
    return row


def _require_active_experiment(conn: Connection, eid: int, raw: str) -> None:
    stage = conn.execute(_EXPERIMENT_STAGE, {"eid": eid}).scalar()
    if stage is None:
        raise NotFoundError(f"No experiment with id {raw!r}.", hint="loom exp list")
    if stage != Lifecycle.ACTIVE.value:
        raise ConflictError(
            f"Experiment {raw} is deleted; runs can't be created in it.",
            hint=f"loom exp restore {raw}",
        )


def set_run_fields(conn: Connection, run_id: str, values: dict[str, object]) -> CursorResult:
    """UPDATE the run's ``values``; the result's rowcount says whether the run exists."""
    params = {f"v_{k}": v for k, v in values.items()}
    return conn.execute(_update_stmt(tuple(sorted(values))), {"rid": run_id, **params})


@functools.cache
def _update_stmt(fields: tuple[str, ...]) -> Any:
    # built once per set of fields: building an UPDATE costs more than running it
    t = cast(Table, RunRow.__table__)
    where = t.c.run_id == bindparam("rid")
    return update(t).where(where).values({f: bindparam(f"v_{f}") for f in fields})


def status_value(status: RunStatus | str) -> str:
    try:
        return RunStatus(status).value
    except ValueError:
        raise ValidationError(
            f"Invalid run status {status!r}: one of " + ", ".join(s.value for s in RunStatus),
        ) from None


def artifact_rows(run_id: str, artifacts: Sequence[Artifact]) -> list[dict]:
    """Validated artifact rows; the last of a path in ``artifacts`` wins."""
    validate_artifacts(artifacts)
    latest = {a.path: a for a in artifacts}
    return [
        {"run_id": run_id, "path": a.path, "hash": a.hash, "size": a.size} for a in latest.values()
    ]


def metric_value(value: float | None, is_nan: bool) -> float:
    return math.nan if is_nan else float(value)  # type: ignore[arg-type]


def load_runs(conn: Connection, rows: Sequence[Row]) -> list[Run]:
    """Turn run rows into entities, fetching their children in a few bulk queries."""
    ids = [r.run_id for r in rows]
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, dict[str, float]] = {i: {} for i in ids}
    inputs: dict[str, list[RunInput]] = {i: [] for i in ids}
    for part in chunks(ids):
        # plain DBAPI tuples: this runs for every page of every search, and building
        # SQLAlchemy rows for a page's thousands of params and tags cost more than SQL
        for table, into in ((ParamRow, params), (TagRow, tags)):
            for run_id, key, value in _by_run(conn, table, ("run_id", "key", "value"), part):
                into[run_id][key] = value
        columns = ("run_id", "key", "value", "is_nan")
        for run_id, key, value, is_nan in _by_run(conn, LatestMetricRow, columns, part):
            metrics[run_id][key] = metric_value(value, is_nan)
        for row in sorted(_by_run(conn, InputRow, _INPUT_COLUMNS, part)):
            _id, run_id, path, oid, size, kind, git_rev, name, modified = row
            inputs[run_id].append(
                RunInput(path, oid, size, kind, git_rev, name, modified=bool(modified))
            )
    return [
        Run(
            run_id=r.run_id,
            experiment_id=str(r.experiment_id),
            name=r.name,
            status=RunStatus(r.status),
            start_time=r.start_time,
            end_time=r.end_time,
            user=r.user,
            lifecycle_stage=Lifecycle(r.lifecycle_stage),
            params=params[r.run_id],
            metrics=metrics[r.run_id],
            tags=tags[r.run_id],
            inputs=tuple(inputs[r.run_id]),
        )
        for r in rows
    ]


# id first: sorting the tuples puts a run's inputs in the order they were logged
_INPUT_COLUMNS = ("id", "run_id", "path", "hash", "size", "kind", "git_rev", "name", "modified")


def _by_run(conn: Connection, model: Any, columns: tuple[str, ...], ids: list[str]) -> list:
    """``SELECT columns FROM model WHERE run_id IN ids`` on the driver's own cursor.

    Only constant names are formatted in; the ids are bound. Driver errors become
    SQLAlchemy's, so the store's retry and error handling see them as usual.
    """
    quote = conn.dialect.identifier_preparer.quote
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = "SELECT {} FROM {} WHERE run_id IN ({})".format(
        ", ".join(quote(c) for c in columns),
        quote(model.__tablename__),
        ", ".join([mark] * len(ids)),
    )
    dbapi = conn.dialect.dbapi
    assert dbapi is not None
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, ids)
        return list(cursor.fetchall())
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, ids, exc, dbapi.Error) from exc
    finally:
        cursor.close()
