"""Experiments: unique names, tags, soft delete."""

from __future__ import annotations

import shlex

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from loom.errors import AlreadyExistsError, ConflictError, NotFoundError, ValidationError
from loom.store.base import StoreBase, now_ms
from loom.store.engine import retrying
from loom.store.entities import Experiment, Lifecycle, ViewType
from loom.store.schema import ExperimentRow, ExperimentTagRow
from loom.store.upsert import get_or_create, upsert
from loom.store.validation import parse_experiment_id, validate_experiment_name, validate_tags


def lifecycles(view: ViewType) -> tuple[str, ...]:
    """The lifecycle stages a view shows; ValidationError for an unknown view."""
    try:
        view = ViewType(view)
    except ValueError:
        choices = ", ".join(v.value for v in ViewType)
        raise ValidationError(f"Unknown view {view!r}: one of {choices}.") from None
    if view is ViewType.ACTIVE_ONLY:
        return (Lifecycle.ACTIVE.value,)
    if view is ViewType.DELETED_ONLY:
        return (Lifecycle.DELETED.value,)
    return (Lifecycle.ACTIVE.value, Lifecycle.DELETED.value)


class ExperimentsMixin(StoreBase):
    @retrying
    def create_experiment(self, name: str, tags: dict[str, str] | None = None) -> Experiment:
        """Create an experiment; :class:`AlreadyExistsError` if the name is taken.

        >>> store.create_experiment("rag-embedding-model").name
        'rag-embedding-model'
        """
        name = validate_experiment_name(name)
        tags = validate_tags(tags, "experiment tag")
        now = now_ms()
        try:
            with self._write() as conn:
                new_id = conn.execute(
                    insert(ExperimentRow)
                    .values(name=name, lifecycle_stage="active", creation_time=now)
                    .values(last_update_time=now)
                    .returning(ExperimentRow.experiment_id)
                ).scalar_one()
                if tags:
                    rows = [
                        {"experiment_id": new_id, "key": k, "value": v} for k, v in tags.items()
                    ]
                    conn.execute(insert(ExperimentTagRow), rows)
        except IntegrityError as exc:
            existing = self.get_experiment_by_name(name)
            deleted = existing is not None and existing.lifecycle_stage == Lifecycle.DELETED
            raise AlreadyExistsError(
                f"An experiment named {name!r} already exists"
                + (" (deleted)." if deleted else "."),
                hint=(
                    f"Restore it (loom exp restore {existing.experiment_id}) or pick another name."
                    if deleted and existing
                    else "Pick another name, or log to the existing one."
                ),
                name=name,
            ) from exc
        return self.get_experiment(str(new_id))

    @retrying
    def get_or_create_experiment(self, name: str) -> Experiment:
        """The active experiment ``name``, created if missing; safe when many processes
        ask for the same new name at once. A deleted one is a :class:`ConflictError`.

        >>> store.get_or_create_experiment("sweep").name
        'sweep'
        """
        name = validate_experiment_name(name)
        now = now_ms()
        with self._write() as conn:
            row, _ = get_or_create(
                conn,
                ExperimentRow,
                {"name": name},
                {"lifecycle_stage": "active", "creation_time": now, "last_update_time": now},
            )
            exp = _to_entity(conn, row)
        if exp.lifecycle_stage != Lifecycle.ACTIVE:
            raise ConflictError(
                f"Experiment {name!r} is deleted.",
                hint=f"Restore it (loom exp restore {shlex.quote(name)}) or pick another name.",
                name=name,
            )
        return exp

    @retrying
    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id; :class:`NotFoundError` if there is none."""
        eid = parse_experiment_id(experiment_id)
        with self._read() as conn:
            row = _select_one(conn, eid)
            if row is None:
                raise NotFoundError(
                    f"No experiment with id {experiment_id!r}.",
                    hint="loom exp list",
                    experiment_id=str(experiment_id),
                )
            return _to_entity(conn, row)

    @retrying
    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self._read() as conn:
            row = conn.execute(select(ExperimentRow).where(ExperimentRow.name == name)).first()
            return _to_entity(conn, row) if row else None

    @retrying
    def list_experiments(self, view: ViewType = ViewType.ACTIVE_ONLY) -> list[Experiment]:
        """Experiments in id order, filtered by lifecycle."""
        with self._read() as conn:
            rows = conn.execute(
                select(ExperimentRow)
                .where(ExperimentRow.lifecycle_stage.in_(lifecycles(view)))
                .order_by(ExperimentRow.experiment_id)
            ).all()
            tags = tags_by_experiment(conn, [r.experiment_id for r in rows])
            return [experiment_entity(r, tags.get(r.experiment_id, {})) for r in rows]

    @retrying
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        new_name = validate_experiment_name(new_name)
        eid = self._require_experiment(experiment_id)
        try:
            with self._write() as conn:
                conn.execute(
                    update(ExperimentRow)
                    .where(ExperimentRow.experiment_id == eid)
                    .values(name=new_name, last_update_time=now_ms())
                )
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"Can't rename experiment {experiment_id}: the name {new_name!r} is taken.",
                hint="Pick another name.",
                name=new_name,
            ) from exc

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft delete: the experiment and its runs stay, hidden from active views."""
        self._set_experiment_lifecycle(experiment_id, Lifecycle.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_lifecycle(experiment_id, Lifecycle.ACTIVE)

    @retrying
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        validate_tags({key: value}, "experiment tag")
        eid = self._require_experiment(experiment_id)
        with self._write() as conn:
            upsert(
                conn,
                ExperimentTagRow,
                [{"experiment_id": eid, "key": key, "value": value}],
                ["experiment_id", "key"],
                ["value"],
            )

    @retrying
    def _set_experiment_lifecycle(self, experiment_id: str, stage: Lifecycle) -> None:
        eid = self._require_experiment(experiment_id)
        with self._write() as conn:
            conn.execute(
                update(ExperimentRow)
                .where(ExperimentRow.experiment_id == eid)
                .values(lifecycle_stage=stage.value, last_update_time=now_ms())
            )

    def _require_experiment(self, experiment_id: str) -> int:
        return int(self.get_experiment(experiment_id).experiment_id)


def _select_one(conn: Connection, eid: int):
    return conn.execute(select(ExperimentRow).where(ExperimentRow.experiment_id == eid)).first()


def tags_by_experiment(conn: Connection, ids: list[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    if not ids:
        return out
    rows = conn.execute(
        select(ExperimentTagRow).where(ExperimentTagRow.experiment_id.in_(ids))
    ).all()
    for r in rows:
        out.setdefault(r.experiment_id, {})[r.key] = r.value
    return out


def _to_entity(conn: Connection, row) -> Experiment:
    return experiment_entity(
        row, tags_by_experiment(conn, [row.experiment_id]).get(row.experiment_id, {})
    )


def experiment_entity(row, tags: dict[str, str]) -> Experiment:
    return Experiment(
        experiment_id=str(row.experiment_id),
        name=row.name,
        lifecycle_stage=Lifecycle(row.lifecycle_stage),
        creation_time=row.creation_time,
        last_update_time=row.last_update_time,
        tags=tags,
    )
