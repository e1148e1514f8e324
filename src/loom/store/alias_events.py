"""Alias events: the rows behind every alias, written once, never updated nor deleted.

The alias's target now is its latest event; its target at time T is the latest
event at or before T. "Latest" is by (time, id), one seek on the index
``ix_alias_events_alias_time (name, alias, time, id)``. Writers hold the
registered model's row lock (see ``registered_models.lock_model``) and never
give an event a time before the alias's previous one, so for one alias the
order by time is the order of the writes even when clients' clocks disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import CTE, Connection, Row, insert, select

from loom.store.base import now_ms
from loom.store.entities import AliasEvent, AliasEventKind
from loom.store.schema import AliasEventRow

_E = AliasEventRow
FOREVER = 2**62  # "now and later": a time after every event


def latest_event(conn: Connection, name: str, alias: str, at: int | None = None) -> Row | None:
    """The alias's latest event at or before ``at`` (ms; None: the latest of all)."""
    q = select(_E).where(_E.name == name, _E.alias == alias)
    if at is not None:
        q = q.where(_E.time <= at)
    return conn.execute(q.order_by(_E.time.desc(), _E.id.desc()).limit(1)).first()


def aliases_at(conn: Connection, names: Sequence[str], at: int | None = None) -> dict[str, dict]:
    """For each model in ``names``: alias -> the version it pointed at, at time ``at``
    (None: now). Aliases that pointed nowhere then (deleted, or not yet set) are left out.

    One query per model, index seeks only: a skip scan finds the model's distinct
    aliases (one seek each, however long the history), then one seek per alias
    finds its latest event by ``at``. 10,000 events cost what 10 do.
    """
    out: dict[str, dict] = {}
    for name in dict.fromkeys(names):
        aliases = _skip_scan(name)
        e = _E.__table__.alias("target")
        target = (
            select(e.c.to_version)
            .where(e.c.name == name, e.c.alias == aliases.c.alias)
            .where(e.c.time <= (FOREVER if at is None else at))
            .order_by(e.c.time.desc(), e.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        q = select(aliases.c.alias, target).where(aliases.c.alias.isnot(None))
        held = {a: v for a, v in conn.execute(q.order_by(aliases.c.alias)) if v is not None}
        if held:
            out[name] = held
    return out


def _skip_scan(name: str) -> CTE:
    """The model's distinct aliases as a recursive CTE: each row is the first alias
    after the previous one, one seek on the index instead of a scan of every event."""
    first = _E.__table__.alias("first")
    start = select(first.c.alias).where(first.c.name == name).order_by(first.c.alias).limit(1)
    cte = select(start.scalar_subquery().label("alias")).cte("aliases", recursive=True)
    later = _E.__table__.alias("later")
    after = (
        select(later.c.alias)
        .where(later.c.name == name, later.c.alias > cte.c.alias)
        .order_by(later.c.alias)
        .limit(1)
        .scalar_subquery()
    )
    return cte.union_all(select(after.label("alias")).where(cte.c.alias.isnot(None)))


def alias_names(conn: Connection, name: str) -> list[str]:
    """Every alias the model ever had (those that point nowhere now included)."""
    q = select(_E.alias).where(_E.name == name).distinct().order_by(_E.alias)
    return list(conn.execute(q).scalars())


def record_move(
    conn: Connection,
    name: str,
    alias: str,
    to_version: int | None,
    kind: AliasEventKind,
    *,
    user: str | None = None,
    comment: str | None = None,
    time: int | None = None,
) -> AliasEvent:
    """Write one move of ``alias``; its from-version is where the alias pointed before.

    The caller holds the model's row lock, so no other move of this alias runs
    between the read of the latest event and the insert.
    """
    last = latest_event(conn, name, alias)
    when = now_ms() if time is None else int(time)
    if last is not None:
        when = max(when, last.time)  # a clock behind the last writer's must not reorder
    from_version: int | None = last.to_version if last is not None else None
    values = {
        "name": name,
        "alias": alias,
        "from_version": from_version,
        "to_version": to_version,
        "kind": kind.value,
        "time": when,
        "user": user,
        "comment": comment,
    }
    event_id = conn.execute(insert(_E).values(values).returning(_E.id)).scalar_one()
    return AliasEvent(
        event_id=event_id,
        name=name,
        alias=alias,
        from_version=from_version,
        to_version=to_version,
        kind=kind,
        time=when,
        user=user,
        comment=comment,
    )


def history(conn: Connection, name: str, alias: str | None = None) -> list[AliasEvent]:
    """Events of the model (or of one alias), oldest first."""
    q = select(_E).where(_E.name == name)
    if alias is not None:
        q = q.where(_E.alias == alias)
    rows = conn.execute(q.order_by(_E.time, _E.id)).all()
    return [event_entity(r) for r in rows]


def event_entity(row: Row) -> AliasEvent:
    return AliasEvent(
        event_id=row.id,
        name=row.name,
        alias=row.alias,
        from_version=row.from_version,
        to_version=row.to_version,
        kind=AliasEventKind(row.kind),
        time=row.time,
        user=row.user,
        comment=row.comment,
    )


def undone_move(conn: Connection, name: str, alias: str) -> Row | None:
    """The last move (set or delete) of ``alias`` that no rollback has undone yet.

    Rollbacks walk back like an undo stack: each rollback undoes the latest move
    not undone before it, so two rollbacks after three sets return to the first.
    Reads the alias's events newest first (rollbacks are rare: a whole history is fine).
    """
    q = select(_E).where(_E.name == name, _E.alias == alias).order_by(_E.time.desc(), _E.id.desc())
    pending = 0
    for row in conn.execute(q):
        if row.kind == AliasEventKind.ROLLBACK.value:
            pending += 1
        elif pending:
            pending -= 1
        else:
            return row
    return None
