"""Aliases: promote, delete and roll back as events; the alias now and at any time.

Every move is an :class:`AliasEvent` kept forever (see ``alias_events``). A
move locks the model's row first, so two processes moving one alias at once
write both events, one after the other, each starting where the previous ended.
"""

from __future__ import annotations

import shlex

from sqlalchemy import Connection

from loom.errors import ConflictError, NotFoundError
from loom.store import alias_events
from loom.store.base import StoreBase
from loom.store.engine import retrying
from loom.store.entities import AliasEvent, AliasEventKind, Lifecycle, ModelVersion
from loom.store.model_versions import version_entities, version_row
from loom.store.registered_models import lock_model, model_row
from loom.store.registry_checks import check_alias, check_comment


class AliasesMixin(StoreBase):
    @retrying
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int | str,
        comment: str | None = None,
        *,
        user: str | None = None,
        time: int | None = None,
    ) -> AliasEvent:
        """Point ``alias`` at an active version (promote); the move is kept as an event.

        ``time`` (ms) dates the event, for imports of history; it never goes before
        the alias's previous event.

        >>> store.set_registered_model_alias("rag", "production", 3, "recall@10 0.92").to_version
        3
        """
        alias, comment = check_alias(alias), check_comment(comment)
        with self._write() as conn:
            lock_model(conn, name, active=True)
            number = _active_version(conn, name, version)
            return alias_events.record_move(
                conn, name, alias, number, AliasEventKind.SET, user=user, comment=comment, time=time
            )

    @retrying
    def delete_registered_model_alias(
        self,
        name: str,
        alias: str,
        comment: str | None = None,
        *,
        user: str | None = None,
        time: int | None = None,
    ) -> AliasEvent:
        """Make ``alias`` point nowhere (its history stays); NotFoundError if it points
        nowhere already."""
        alias, comment = check_alias(alias), check_comment(comment)
        with self._write() as conn:
            lock_model(conn, name, active=True)
            _current(conn, name, alias)
            return alias_events.record_move(
                conn,
                name,
                alias,
                None,
                AliasEventKind.DELETE,
                user=user,
                comment=comment,
                time=time,
            )

    @retrying
    def rollback_registered_model_alias(
        self,
        name: str,
        alias: str,
        comment: str | None = None,
        *,
        user: str | None = None,
        time: int | None = None,
    ) -> AliasEvent:
        """Return ``alias`` to the version that held it before its last move not yet rolled
        back: rollbacks walk back through the history like an undo stack."""
        alias, comment = check_alias(alias), check_comment(comment)
        with self._write() as conn:
            lock_model(conn, name, active=True)
            _known(conn, name, alias)
            undone = alias_events.undone_move(conn, name, alias)
            quoted = shlex.quote(name)
            if undone is None or undone.from_version is None:
                what = (
                    "every move is rolled back" if undone is None else "no version held it before"
                )
                raise ConflictError(
                    f"Nothing to roll back for {alias!r} of {name!r}: {what}.",
                    hint=f"`loom models history {quoted} --alias {alias}` shows its moves; "
                    f"`loom models promote {quoted} VERSION --alias {alias}` points it anew.",
                    name=name,
                    alias=alias,
                )
            target = undone.from_version
            row = version_row(conn, name, target)
            if row.lifecycle_stage != Lifecycle.ACTIVE.value:
                raise ConflictError(
                    f"Can't roll {alias!r} back to version {target} of {name!r}: it is deleted.",
                    hint=f"Restore it first: loom models restore {quoted} {target}",
                    name=name,
                    version=target,
                )
            return alias_events.record_move(
                conn,
                name,
                alias,
                target,
                AliasEventKind.ROLLBACK,
                user=user,
                comment=comment,
                time=time,
            )

    @retrying
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points at now; NotFoundError naming the model's aliases."""
        alias = check_alias(alias)
        with self._read() as conn:
            number = _current(conn, name, alias)
            return version_entities(conn, [version_row(conn, name, number)])[0]

    @retrying
    def get_alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Every move of the model's aliases (or of ``alias``), oldest first."""
        with self._read() as conn:
            model_row(conn, name)
            if alias is not None:
                _known(conn, name, check_alias(alias))
            return alias_events.history(conn, name, alias)

    @retrying
    def get_model_version_at(self, name: str, alias: str, time_ms: int) -> ModelVersion | None:
        """The version ``alias`` pointed at at ``time_ms`` (ms since the epoch), or None if
        it pointed nowhere then. Events at that very millisecond count (the last wins).
        One index seek, whatever the length of the history."""
        alias = check_alias(alias)
        with self._read() as conn:
            row = alias_events.latest_event(conn, name, alias, at=int(time_ms))
            if row is None:
                _known(conn, name, alias)
                return None
            if row.to_version is None:
                return None
            return version_entities(conn, [version_row(conn, name, row.to_version)])[0]

    @retrying
    def get_aliases_at(self, name: str, time_ms: int | None = None) -> dict[str, int]:
        """Alias -> the version it pointed at at ``time_ms`` (None: now), for every alias
        of the model that pointed somewhere then."""
        with self._read() as conn:
            model_row(conn, name)
            at = None if time_ms is None else int(time_ms)
            return alias_events.aliases_at(conn, [name], at).get(name, {})


def _active_version(conn: Connection, name: str, version: int | str) -> int:
    row = version_row(conn, name, version)
    if row.lifecycle_stage != Lifecycle.ACTIVE.value:
        raise ConflictError(
            f"Version {row.version} of {name!r} is deleted; an alias can't point at it.",
            hint=f"Restore it first: loom models restore {shlex.quote(name)} {row.version}",
            name=name,
            version=row.version,
        )
    return row.version


def _current(conn: Connection, name: str, alias: str) -> int:
    """The version ``alias`` points at now; NotFoundError if none."""
    row = alias_events.latest_event(conn, name, alias)
    if row is None or row.to_version is None:
        raise _no_alias(conn, name, alias, deleted=row is not None)
    return row.to_version


def _known(conn: Connection, name: str, alias: str) -> None:
    """NotFoundError unless the model ever had ``alias``."""
    if alias_events.latest_event(conn, name, alias) is None:
        raise _no_alias(conn, name, alias, deleted=False)


def _no_alias(conn: Connection, name: str, alias: str, *, deleted: bool) -> NotFoundError:
    model_row(conn, name)  # an unknown model is said as such
    now = alias_events.aliases_at(conn, [name]).get(name, {})
    have = ", ".join(f"{a} -> {v}" for a, v in now.items()) or "none"
    quoted = shlex.quote(name)
    if deleted:
        what = f"Alias {alias!r} of {name!r} points at no version now (it was deleted)."
    else:
        what = f"Registered model {name!r} has no alias {alias!r}."
    return NotFoundError(
        f"{what} Its aliases now: {have}.",
        hint=f"Set it: loom models promote {quoted} VERSION --alias {alias}",
        name=name,
        alias=alias,
    )
