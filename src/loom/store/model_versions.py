"""Model versions: numbered 1, 2, 3 … per model, immutable files, soft delete.

A version's number comes from ``registered_models.next_version``, read and
bumped under the model's row lock, so concurrent registrations of one model get
distinct numbers with no gap and no retry. Registering a tree an active version
already has returns that version (idempotent).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, tuple_, update

from loom.errors import AlreadyExistsError, ConflictError, NotFoundError
from loom.store.alias_events import aliases_at, record_move
from loom.store.base import StoreBase, chunks, now_ms
from loom.store.engine import retrying
from loom.store.entities import AliasEvent, AliasEventKind, Lifecycle, ModelVersion, ViewType
from loom.store.experiments import lifecycles
from loom.store.registered_models import lock_model, model_row
from loom.store.registry_checks import (
    check_description,
    check_model_name,
    check_semver,
    check_text_field,
    check_version,
)
from loom.store.runs import require_run
from loom.store.schema import (
    LoggedModelRow,
    ModelVersionRow,
    ModelVersionTagRow,
    RegisteredModelRow,
)
from loom.store.upsert import get_or_create, upsert
from loom.store.validation import check_hash, validate_key, validate_tags

_V = ModelVersionRow
_ACTIVE = Lifecycle.ACTIVE.value


class ModelVersionsMixin(StoreBase):
    @retrying
    def create_model_version(
        self,
        name: str,
        source: str,
        tree: str,
        *,
        run_id: str | None = None,
        model_id: str | None = None,
        flavor: str | None = None,
        semver: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        user: str | None = None,
    ) -> tuple[ModelVersion, bool]:
        """The next version of ``name`` (the model is created if missing), and True; or,
        when an active version already has this ``tree``, that version unchanged and False.

        >>> mv, created = store.create_model_version("rag", "runs:/…/model", tree_hash)
        >>> mv.version, created
        (1, True)
        """
        name = check_model_name(name)
        fields = {
            "source": check_text_field("model source", source, 1000),
            "tree": check_hash(tree, "the model's tree"),
            "flavor": None if flavor is None else check_text_field("flavor", flavor, 64),
            "semver": check_semver(semver),
            "description": check_description(description),
            "user": user,
        }
        tags = validate_tags(tags, "model version tag")
        now = now_ms()
        with self._write() as conn:
            model = _get_or_create_model(conn, name, now)
            same = conn.execute(
                select(_V).where(_V.name == name, _V.tree == tree, _V.lifecycle_stage == _ACTIVE)
            ).first()
            if same is not None:
                return version_entities(conn, [same])[0], False
            _check_links(conn, run_id, model_id)
            _check_semver_free(conn, name, fields["semver"])
            number = model.next_version
            conn.execute(
                update(RegisteredModelRow)
                .where(RegisteredModelRow.name == name)
                .values(next_version=number + 1, last_update_time=now)
            )
            row = {
                "name": name,
                "version": number,
                "run_id": run_id,
                "model_id": model_id,
                "status": "READY",
                "lifecycle_stage": _ACTIVE,
                "creation_time": now,
                "last_update_time": now,
                **fields,
            }
            conn.execute(insert(_V).values(row))
            _write_tags(conn, name, number, tags)
            return version_entities(conn, [_select(conn, name, number)])[0], True

    @retrying
    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """The version, active or deleted (see ``lifecycle_stage``); NotFoundError naming
        the versions that exist."""
        with self._read() as conn:
            return version_entities(conn, [version_row(conn, name, version)])[0]

    @retrying
    def get_latest_version(self, name: str) -> ModelVersion:
        """The newest active version; NotFoundError if the model has none."""
        with self._read() as conn:
            model_row(conn, name)
            row = conn.execute(
                select(_V)
                .where(_V.name == name, _V.lifecycle_stage == _ACTIVE)
                .order_by(_V.version.desc())
                .limit(1)
            ).first()
            if row is None:
                quoted = shlex.quote(name)
                raise NotFoundError(
                    f"Registered model {name!r} has no active version.",
                    hint=f"Register one (loom models register runs:/RUN_ID/model {quoted})"
                    f" or restore one (loom models versions {quoted} --all).",
                    name=name,
                )
            return version_entities(conn, [row])[0]

    @retrying
    def list_model_versions(
        self, name: str, view: ViewType = ViewType.ACTIVE_ONLY
    ) -> list[ModelVersion]:
        """The model's versions in number order, filtered by lifecycle."""
        with self._read() as conn:
            model_row(conn, name)
            rows = conn.execute(
                select(_V)
                .where(_V.name == name, _V.lifecycle_stage.in_(lifecycles(view)))
                .order_by(_V.version)
            ).all()
            return version_entities(conn, rows)

    @retrying
    def find_model_versions(
        self,
        *,
        names: Sequence[str] | None = None,
        run_ids: Sequence[str] | None = None,
        keys: Sequence[tuple[str, int]] | None = None,
        view: ViewType = ViewType.ACTIVE_ONLY,
    ) -> list[ModelVersion]:
        """Versions of any model, by name then number: all of them, or those of
        ``names``, made by ``run_ids``, or named by ``(name, version)`` ``keys``
        (each given filter narrows). Models that are deleted count as having none."""
        q = (
            select(_V)
            .join(RegisteredModelRow, RegisteredModelRow.name == _V.name)
            .where(
                _V.lifecycle_stage.in_(lifecycles(view)),
                RegisteredModelRow.lifecycle_stage == _ACTIVE,
            )
        )
        filters = [
            (col, list(values))
            for col, values in ((_V.name, names), (_V.run_id, run_ids), (_tuple_key(), keys))
            if values is not None
        ]
        if any(not values for _, values in filters):
            return []
        # the longest list goes in chunks (bound-variable limits); the others whole
        filters.sort(key=lambda f: len(f[1]))
        longest = filters.pop() if filters else None
        for col, values in filters:
            q = q.where(col.in_(values))
        with self._read() as conn:
            if longest is None:
                rows = list(conn.execute(q).all())
            else:
                col, values = longest
                rows = [r for part in chunks(values) for r in conn.execute(q.where(col.in_(part)))]
            rows.sort(key=lambda r: (r.name, r.version))
            return version_entities(conn, rows)

    @retrying
    def update_model_version(
        self, name: str, version: int | str, description: str | None
    ) -> ModelVersion:
        """Set (or with None, clear) the version's description; its files never change."""
        description = check_description(description)
        with self._write() as conn:
            lock_model(conn, name)
            number = version_row(conn, name, version).version
            _touch(conn, name, number, description=description)
            return version_entities(conn, [_select(conn, name, number)])[0]

    @retrying
    def set_model_version_tag(self, name: str, version: int | str, key: str, value: str) -> None:
        tags = validate_tags({key: value}, "model version tag")
        with self._write() as conn:
            lock_model(conn, name)
            number = version_row(conn, name, version).version
            _write_tags(conn, name, number, tags)
            _touch(conn, name, number)

    @retrying
    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove the tag ``key``; a key the version lacks is fine (as in MLflow)."""
        validate_key(key, "model version tag")
        with self._write() as conn:
            lock_model(conn, name)
            number = version_row(conn, name, version).version
            t = ModelVersionTagRow
            conn.execute(delete(t).where(t.name == name, t.version == number, t.key == key))
            _touch(conn, name, number)

    @retrying
    def delete_model_version(
        self, name: str, version: int | str, force: bool = False, user: str | None = None
    ) -> list[AliasEvent]:
        """Soft delete (``restore_model_version`` undoes it). A version an alias points at
        needs ``force``, which also moves those aliases to nothing: the DELETE events
        written for them come back."""
        with self._write() as conn:
            lock_model(conn, name)
            number = version_row(conn, name, version).version
            held = sorted(
                a for a, v in aliases_at(conn, [name]).get(name, {}).items() if v == number
            )
            if held and not force:
                listed = ", ".join(held)
                raise ConflictError(
                    f"Version {number} of {name!r} holds the alias(es) {listed}.",
                    hint=f"Move them first (loom models promote {shlex.quote(name)} VERSION "
                    f"--alias {held[0]}), or delete with --force, which removes them.",
                    name=name,
                    version=number,
                    aliases=held,
                )
            comment = f"version {number} deleted"
            events = [
                record_move(conn, name, a, None, AliasEventKind.DELETE, user=user, comment=comment)
                for a in held
            ]
            _touch(conn, name, number, lifecycle_stage=Lifecycle.DELETED.value)
            return events

    @retrying
    def restore_model_version(self, name: str, version: int | str) -> None:
        """Undo a soft delete; aliases removed by a forced delete stay removed."""
        with self._write() as conn:
            lock_model(conn, name)
            number = version_row(conn, name, version).version
            _touch(conn, name, number, lifecycle_stage=_ACTIVE)


# -- helpers -------------------------------------------------------------------------


def _get_or_create_model(conn: Connection, name: str, now: int) -> Row:
    """The model's row, created if missing and then locked (many processes may register
    the first version of a new name at once: see ``upsert.get_or_create``)."""
    values = {
        "creation_time": now,
        "last_update_time": now,
        "lifecycle_stage": _ACTIVE,
        "next_version": 1,
    }
    get_or_create(conn, RegisteredModelRow, {"name": name}, values)
    return lock_model(conn, name, active=True)


def _check_links(conn: Connection, run_id: str | None, model_id: str | None) -> None:
    if run_id is not None:
        require_run(conn, run_id)
    if model_id is not None:
        found = conn.execute(
            select(LoggedModelRow.model_id).where(LoggedModelRow.model_id == model_id)
        ).first()
        if found is None:
            raise NotFoundError(f"No logged model with id {model_id!r}.", model_id=model_id)


def _check_semver_free(conn: Connection, name: str, semver: str | None) -> None:
    if semver is None:
        return
    taken = conn.execute(select(_V.version).where(_V.name == name, _V.semver == semver)).scalar()
    if taken is not None:
        raise AlreadyExistsError(
            f"Version {taken} of {name!r} already has the semantic version {semver}.",
            hint="Give this version another one (each semver names one version).",
            name=name,
            semver=semver,
            version=taken,
        )


def _tuple_key() -> Any:
    return tuple_(_V.name, _V.version)


def _select(conn: Connection, name: str, number: int) -> Row | None:
    return conn.execute(select(_V).where(_V.name == name, _V.version == number)).first()


def version_row(conn: Connection, name: str, version: int | str) -> Row:
    """The version's row; NotFoundError naming the model's versions if there is none."""
    number = check_version(version)
    row = _select(conn, check_model_name(name), number)
    if row is not None:
        return row
    model_row(conn, name)  # an unknown model is said as such
    numbers = list(
        conn.execute(select(_V.version).where(_V.name == name).order_by(_V.version)).scalars()
    )
    have = f"its versions are {spans(numbers)}" if numbers else "it has no versions yet"
    raise NotFoundError(
        f"Registered model {name!r} has no version {number}: {have}.",
        hint=f"loom models versions {shlex.quote(name)} --all",
        name=name,
        version=number,
    )


def spans(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``'1-3, 5'``."""
    parts: list[str] = []
    start = prev = None
    for n in [*numbers, None]:
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    return ", ".join(parts)


def _touch(conn: Connection, name: str, number: int, **values: object) -> None:
    conn.execute(
        update(_V)
        .where(_V.name == name, _V.version == number)
        .values(last_update_time=now_ms(), **values)
    )


def _write_tags(conn: Connection, name: str, number: int, tags: dict[str, str]) -> None:
    rows = [
        {"name": name, "version": number, "key": k, "value": v} for k, v in sorted(tags.items())
    ]
    upsert(conn, ModelVersionTagRow, rows, ["name", "version", "key"], ["value"])


def version_entities(conn: Connection, rows: Sequence[Row | None]) -> list[ModelVersion]:
    """Entities for version rows with their tags and the aliases pointing at them now."""
    present = [r for r in rows if r is not None]
    tags: dict[tuple[str, int], dict[str, str]] = {}
    t = ModelVersionTagRow
    for part in chunks([(r.name, r.version) for r in present]):
        q = select(t).where(tuple_(t.name, t.version).in_(part)).order_by(t.key)
        for r in conn.execute(q):
            tags.setdefault((r.name, r.version), {})[r.key] = r.value
    held: dict[tuple[str, int], list[str]] = {}
    for name, aliases in aliases_at(conn, sorted({r.name for r in present})).items():
        for alias, number in aliases.items():
            held.setdefault((name, number), []).append(alias)
    return [
        version_entity(r, tags.get((r.name, r.version), {}), held.get((r.name, r.version), ()))
        for r in present
    ]


def version_entity(row: Row, tags: dict[str, str], aliases: Sequence[str] = ()) -> ModelVersion:
    return ModelVersion(
        name=row.name,
        version=row.version,
        tree=row.tree,
        source=row.source,
        creation_time=row.creation_time,
        last_update_time=row.last_update_time,
        run_id=row.run_id,
        model_id=row.model_id,
        flavor=row.flavor,
        semver=row.semver,
        description=row.description,
        user=row.user,
        status=row.status,
        lifecycle_stage=Lifecycle(row.lifecycle_stage),
        tags=tags,
        aliases=tuple(sorted(aliases)),
    )
