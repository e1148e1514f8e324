"""Lineage queries: which runs read, wrote or logged a content hash, and back.

Lineage is a join on content hashes: a run's input (``inputs.hash``) is
another run's output (``outputs.hash``) or logged file (``artifacts.hash``).
Every lookup here goes through an index (``ix_inputs_hash``, ``ix_outputs_hash``,
``ix_artifacts_hash``, or the run id that leads each table), a few queries per
level of a lineage graph whatever the store's size.

    >>> store.links_by_hash([oid], roles=("output", "artifact"))  # who made oid
    [DataLink(hash=oid, run_id='…', role='output', path='processed', kind='directory', …)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, exists, select

from loom.errors import ValidationError
from loom.store import alias_events
from loom.store.base import StoreBase, chunks
from loom.store.engine import retrying
from loom.store.entities import AliasEvent, DataLink, ModelVersion, Run
from loom.store.model_versions import version_entities
from loom.store.registered_models import model_row
from loom.store.registry_checks import check_alias
from loom.store.runs import load_runs
from loom.store.schema import ArtifactRow, InputRow, ModelVersionRow, OutputRow, RunRow

ROLES = ("input", "output", "artifact")
_TABLES: dict[str, Any] = {"input": InputRow, "output": OutputRow, "artifact": ArtifactRow}


class LineageMixin(StoreBase):
    @retrying
    def links_by_hash(self, hashes: Sequence[str], roles: Sequence[str] = ROLES) -> list[DataLink]:
        """Every input, output or artifact row whose content hash is one of ``hashes``."""
        return self._links("hash", hashes, roles)

    @retrying
    def links_by_run(
        self, run_ids: Sequence[str], roles: Sequence[str] = ("input", "output")
    ) -> list[DataLink]:
        """The inputs and outputs (and, if asked, artifacts) of these runs."""
        return self._links("run_id", run_ids, roles)

    @retrying
    def consumed_artifacts(self, run_ids: Sequence[str]) -> list[DataLink]:
        """The artifacts of these runs whose content some run's input has: the only
        artifacts that link anywhere (a run may log thousands; this returns the few)."""
        consumed = exists().where(InputRow.hash == ArtifactRow.hash)
        out: list[DataLink] = []
        with self._read() as conn:
            for part in chunks(sorted(set(run_ids))):
                q = select(ArtifactRow).where(ArtifactRow.run_id.in_(part), consumed)
                out += [_link("artifact", r) for r in conn.execute(q)]
        return _ordered(out)

    @retrying
    def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        """The runs with these ids (deleted ones too), in no particular order; an id
        with no run is left out."""
        with self._read() as conn:
            rows: list[Any] = []
            for part in chunks(sorted(set(run_ids))):
                rows += conn.execute(select(RunRow).where(RunRow.run_id.in_(part))).all()
            return load_runs(conn, rows)

    @retrying
    def model_versions_by_run(self, run_ids: Sequence[str]) -> list[ModelVersion]:
        """The model versions registered from these runs (deleted ones too), by name and
        number (``ix_model_versions_run``)."""
        with self._read() as conn:
            rows: list[Any] = []
            for part in chunks(sorted(set(run_ids))):
                q = select(ModelVersionRow).where(ModelVersionRow.run_id.in_(part))
                rows += conn.execute(q).all()
            rows.sort(key=lambda r: (r.name, r.version))
            return version_entities(conn, rows)

    @retrying
    def alias_event_at(self, name: str, alias: str, time_ms: int) -> AliasEvent | None:
        """The move of ``alias`` in force at ``time_ms``: its latest event at or before
        then (who moved it, when, why), or None before the first. One index seek."""
        alias = check_alias(alias)
        with self._read() as conn:
            row = alias_events.latest_event(conn, name, alias, at=int(time_ms))
            if row is None:
                model_row(conn, name)  # an unknown model is said as such
                return None
            return alias_events.event_entity(row)

    def _links(self, column: str, values: Iterable[str], roles: Sequence[str]) -> list[DataLink]:
        bad = [r for r in roles if r not in _TABLES]
        if bad:
            raise ValidationError(f"Unknown link role {bad[0]!r}: one of {', '.join(ROLES)}.")
        keys = sorted(set(values))
        out: list[DataLink] = []
        with self._read() as conn:
            for role in roles:
                out += _select(conn, role, column, keys)
        return _ordered(out)


def _select(conn: Connection, role: str, column: str, keys: list[str]) -> list[DataLink]:
    table = _TABLES[role]
    out = []
    for part in chunks(keys):
        q = select(table).where(getattr(table, column).in_(part))
        out += [_link(role, r) for r in conn.execute(q)]
    return out


def _link(role: str, row: Any) -> DataLink:
    if role == "input":
        return DataLink(
            row.hash,
            row.run_id,
            role,
            row.path,
            row.kind,
            row.size,
            row.git_rev,
            bool(row.modified),
        )
    kind = "file" if role == "artifact" else row.kind
    return DataLink(row.hash, row.run_id, role, row.path, kind, row.size)


def _ordered(links: list[DataLink]) -> list[DataLink]:
    # the same answer on SQLite and PostgreSQL, whatever order rows come back in
    return sorted(links, key=lambda k: (k.hash, k.run_id, ROLES.index(k.role), k.path))
