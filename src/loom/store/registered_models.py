"""Registered models: unique names, description, tags, soft delete.

Every write to a model's versions or aliases first locks the model's row
(:func:`lock_model`): on PostgreSQL ``SELECT … FOR UPDATE`` makes concurrent
writers of one model take turns; on SQLite ``BEGIN IMMEDIATE`` already does.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Sequence

from sqlalchemy import Connection, Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from loom.errors import AlreadyExistsError, ConflictError, NotFoundError
from loom.store.alias_events import aliases_at
from loom.store.base import StoreBase, chunks, now_ms
from loom.store.engine import retrying
from loom.store.entities import Lifecycle, RegisteredModel, ViewType
from loom.store.experiments import lifecycles
from loom.store.registry_checks import check_description, check_model_name
from loom.store.schema import (
    ModelVersionRow,
    PermissionRow,
    RegisteredModelRow,
    RegisteredModelTagRow,
)
from loom.store.upsert import upsert
from loom.store.validation import validate_key, validate_tags

_M = RegisteredModelRow


class RegisteredModelsMixin(StoreBase):
    @retrying
    def create_registered_model(
        self, name: str, description: str | None = None, tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        """A new registered model; :class:`AlreadyExistsError` if the name is taken.

        >>> store.create_registered_model("rag-embedder", "Embeds queries").name
        'rag-embedder'
        """
        name = check_model_name(name)
        description = check_description(description)
        tags = validate_tags(tags, "model tag")
        now = now_ms()
        try:
            with self._write() as conn:
                conn.execute(
                    insert(_M).values(
                        name=name,
                        description=description,
                        creation_time=now,
                        last_update_time=now,
                        lifecycle_stage=Lifecycle.ACTIVE.value,
                        next_version=1,
                    )
                )
                _write_tags(conn, name, tags)
                return model_entities(conn, [_select(conn, name)])[0]
        except IntegrityError as exc:
            raise self._taken(name) from exc

    def _taken(self, name: str) -> AlreadyExistsError:
        deleted = self.get_registered_model(name).lifecycle_stage == Lifecycle.DELETED
        return AlreadyExistsError(
            f"A registered model named {name!r} already exists"
            + (" (deleted)." if deleted else "."),
            hint=f"Restore it (loom models restore {shlex.quote(name)})"
            if deleted
            else "Register a new version of it, or pick another name.",
            name=name,
        )

    @retrying
    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags, current aliases and newest active version;
        :class:`NotFoundError` naming the models that exist."""
        with self._read() as conn:
            return model_entities(conn, [model_row(conn, name)])[0]

    @retrying
    def list_registered_models(
        self, view: ViewType = ViewType.ACTIVE_ONLY
    ) -> list[RegisteredModel]:
        """Models in name order, filtered by lifecycle."""
        with self._read() as conn:
            rows = conn.execute(
                select(_M).where(_M.lifecycle_stage.in_(lifecycles(view))).order_by(_M.name)
            ).all()
            return model_entities(conn, rows)

    @retrying
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set (or with None, clear) the model's description."""
        description = check_description(description)
        with self._write() as conn:
            lock_model(conn, name)
            _touch(conn, name, description=description)
            return model_entities(conn, [_select(conn, name)])[0]

    @retrying
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Give the model, its versions, tags, alias history and grants a new name;
        AlreadyExistsError if ``new_name`` is taken (by a deleted model too)."""
        new_name = check_model_name(new_name)
        taken = AlreadyExistsError(
            f"Can't rename {name!r}: a registered model named {new_name!r} exists.",
            hint="Pick another name (a deleted model keeps its name until restored).",
            name=new_name,
        )
        try:
            with self._write() as conn:
                lock_model(conn, name, active=True)
                if name != new_name:
                    if _select(conn, new_name) is not None:
                        raise taken
                    # versions, tags and alias events follow by ON UPDATE CASCADE
                    conn.execute(
                        update(_M)
                        .where(_M.name == name)
                        .values(name=new_name, last_update_time=now_ms())
                    )
                    # the model's grants go with it; grants made on the new name while no
                    # model had it must not open the renamed model to anyone
                    p = PermissionRow
                    conn.execute(delete(p).where(p.kind == "model", p.resource == new_name))
                    conn.execute(
                        update(p)
                        .where(p.kind == "model", p.resource == name)
                        .values(resource=new_name)
                    )
                return model_entities(conn, [_select(conn, new_name)])[0]
        except IntegrityError as exc:  # another rename or create took it meanwhile
            raise taken from exc

    def delete_registered_model(self, name: str) -> None:
        """Soft delete: the model, its versions and alias history stay, hidden from lists;
        it can't get versions or alias moves until restored."""
        self._set_model_lifecycle(name, Lifecycle.DELETED)

    def restore_registered_model(self, name: str) -> None:
        self._set_model_lifecycle(name, Lifecycle.ACTIVE)

    @retrying
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        tags = validate_tags({key: value}, "model tag")
        with self._write() as conn:
            lock_model(conn, name)
            _write_tags(conn, name, tags)
            _touch(conn, name)

    @retrying
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove the tag ``key``; a key the model lacks is fine (as in MLflow)."""
        validate_key(key, "model tag")
        with self._write() as conn:
            lock_model(conn, name)
            t = RegisteredModelTagRow
            conn.execute(delete(t).where(t.name == name, t.key == key))
            _touch(conn, name)

    @retrying
    def _set_model_lifecycle(self, name: str, stage: Lifecycle) -> None:
        with self._write() as conn:
            lock_model(conn, name)
            _touch(conn, name, lifecycle_stage=stage.value)


# -- helpers the version and alias modules share -------------------------------------


def _select(conn: Connection, name: str) -> Row | None:
    return conn.execute(select(_M).where(_M.name == name)).first()


def model_row(conn: Connection, name: str) -> Row:
    """The model's row; NotFoundError naming the models that exist if there is none."""
    row = _select(conn, check_model_name(name))
    if row is None:
        raise no_model(conn, name)
    return row


def lock_model(conn: Connection, name: str, *, active: bool = False) -> Row:
    """The model's row, locked until the transaction ends (writers of one model take
    turns); ConflictError if ``active`` and the model is deleted."""
    check_model_name(name)
    row = conn.execute(select(_M).where(_M.name == name).with_for_update()).first()
    if row is None:
        raise no_model(conn, name)
    if active and row.lifecycle_stage != Lifecycle.ACTIVE.value:
        raise ConflictError(
            f"Registered model {name!r} is deleted; it can't change.",
            hint=f"Restore it first: loom models restore {shlex.quote(name)}",
            name=name,
        )
    return row


def _touch(conn: Connection, name: str, **values: object) -> None:
    conn.execute(update(_M).where(_M.name == name).values(last_update_time=now_ms(), **values))


def no_model(conn: Connection, name: str) -> NotFoundError:
    names = list(conn.execute(select(_M.name).order_by(_M.name).limit(1000)).scalars())
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        hint = f"Did you mean {close[0]!r}? `loom models list` shows every model."
    elif names:
        shown = ", ".join(repr(n) for n in names[:10]) + (", …" if len(names) > 10 else "")
        hint = f"Registered models: {shown}. `loom models list` shows them all."
    else:
        hint = "No model is registered yet: loom models register runs:/RUN_ID/model NAME"
    return NotFoundError(f"No registered model named {name!r}.", hint=hint, name=name)


def _write_tags(conn: Connection, name: str, tags: dict[str, str]) -> None:
    rows = [{"name": name, "key": k, "value": v} for k, v in sorted(tags.items())]
    upsert(conn, RegisteredModelTagRow, rows, ["name", "key"], ["value"])


def model_entities(conn: Connection, rows: Sequence[Row | None]) -> list[RegisteredModel]:
    """Entities for model rows, with tags, current aliases and newest active versions
    (three queries per 500 models)."""
    present = [r for r in rows if r is not None]
    tags: dict[str, dict[str, str]] = {}
    latest: dict[str, int] = {}
    aliases: dict[str, dict] = {}
    t, v = RegisteredModelTagRow, ModelVersionRow
    for names in chunks([r.name for r in present]):
        for r in conn.execute(select(t).where(t.name.in_(names)).order_by(t.name, t.key)):
            tags.setdefault(r.name, {})[r.key] = r.value
        q = (
            select(v.name, func.max(v.version))
            .where(v.name.in_(names), v.lifecycle_stage == Lifecycle.ACTIVE.value)
            .group_by(v.name)
        )
        latest.update({n: v for n, v in conn.execute(q)})
        aliases.update(aliases_at(conn, names))
    return [
        RegisteredModel(
            name=r.name,
            creation_time=r.creation_time,
            last_update_time=r.last_update_time,
            description=r.description,
            lifecycle_stage=Lifecycle(r.lifecycle_stage),
            tags=tags.get(r.name, {}),
            aliases=aliases.get(r.name, {}),
            latest_version=latest.get(r.name),
        )
        for r in present
    ]
