"""What an MLflow client adds to a logged model: uploaded files, params, tags, its end;
and what the artifact proxy does to files beyond logging them (conflicts, deletes).

MLflow 3 creates a logged model first (``PENDING``), uploads the package's files into
the model's own artifact location, then finalizes it ``READY`` or ``FAILED``. The files
are rows ``(model_id, path) -> (hash, size)``, as a run's artifacts are; the bytes are
objects. At finalize the server builds the package's tree from these rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, update

from loom import paths
from loom.entities import Artifact, LoggedModel, Page
from loom.errors import ConflictError, NotFoundError, ValidationError
from loom.store.base import StoreBase, chunks, in_folder, now_ms
from loom.store.engine import retrying
from loom.store.logged_models import DELETED, STATUSES, _entities, _select
from loom.store.runs import require_run
from loom.store.schema import (
    ArtifactRow,
    LoggedModelFileRow,
    LoggedModelParamRow,
    LoggedModelRow,
    LoggedModelTagRow,
)
from loom.store.search.mixin import check_max_results
from loom.store.search.paging import decode_token, encode_token, fingerprint
from loom.store.search.parser import PREFIXES, Cmp, Grammar, parse_filter
from loom.store.search.sql import compare, compile_tree
from loom.store.upsert import upsert
from loom.store.validation import (
    check_hash,
    parse_experiment_id,
    validate_artifacts,
    validate_params,
    validate_tags,
)

_L, _F = LoggedModelRow, LoggedModelFileRow
_COLUMNS: dict[str, Any] = {
    "name": _L.name,
    "model_id": _L.model_id,
    "status": _L.status,
    "source_run_id": _L.run_id,
    "creation_time": _L.creation_time,
    "last_update_time": _L.last_update_time,
}
_NUMERIC = frozenset({"creation_time", "last_update_time"})
LOGGED_MODELS = Grammar(
    {k: v for k, v in PREFIXES.items() if v in ("tag", "param", "attribute")},
    {
        "name": "name",
        "model_id": "model_id",
        "status": "status",
        "source_run_id": "source_run_id",
        "creation_time": "creation_time",
        "creation_timestamp": "creation_time",
        "creation_timestamp_ms": "creation_time",
        "last_update_time": "last_update_time",
        "last_updated_timestamp": "last_update_time",
        "last_updated_timestamp_ms": "last_update_time",
    },
    _NUMERIC,
    {},
)


class LoggedModelFilesMixin(StoreBase):
    @retrying
    def add_logged_model_files(self, model_id: str, files: Sequence[Artifact]) -> None:
        """Record uploaded files; a path uploaded again is replaced. Refused once the
        model is deleted."""
        validate_artifacts(files)
        rows = [
            {"model_id": model_id, "path": f.path, "hash": f.hash, "size": f.size} for f in files
        ]
        with self._write() as conn:
            _require_open(conn, model_id)
            for part in chunks(rows):
                upsert(conn, _F, part, ["model_id", "path"], ["hash", "size"])

    @retrying
    def list_logged_model_files(self, model_id: str, prefix: str | None = None) -> list[Artifact]:
        """The model's files sorted by path, those under the folder ``prefix`` if given."""
        with self._read() as conn:
            _require(conn, model_id)
            q = select(_F).where(_F.model_id == model_id)
            folder = (prefix or "").strip("/")
            if folder:
                q = q.where(in_folder(_F.path, folder))
            return [Artifact(r.path, r.hash, r.size) for r in conn.execute(q.order_by(_F.path))]

    @retrying
    def file_path_conflict(self, owner: tuple[str, str], path: str) -> str | None:
        """Why ``path`` can't be a new file of a run's artifacts (``("run", run_id)``) or a
        model's files (``("model", model_id)``): a file above it, or files below it."""
        table: Any = ArtifactRow if owner[0] == "run" else _F
        col = table.run_id if owner[0] == "run" else table.model_id
        parts = path.split("/")
        above = ["/".join(parts[:i]) for i in range(1, len(parts))]
        q = select(table.path).where(
            col == owner[1],
            or_(table.path.in_(above), and_(table.path > path + "/", table.path < path + "0")),
        )
        with self._read() as conn:
            found = conn.execute(q.limit(1)).scalar()
        if found is None:
            return None
        if found in above:
            return f"{found!r} is a file; {path!r} can't be inside it"
        return f"{path!r} is a folder of artifacts; it can't be a file too"

    @retrying
    def delete_artifacts(self, run_id: str, path: str) -> int:
        """Forget a run's artifact ``path``, or every one under the folder ``path``; how
        many. The bytes stay until gc: other runs may name the same object."""
        paths.check_relative(path, "artifact path")
        a = ArtifactRow
        with self._write() as conn:
            require_run(conn, run_id, active=True)
            q = delete(a).where(a.run_id == run_id, in_folder(a.path, path))
            return int(conn.execute(q).rowcount or 0)

    @retrying
    def delete_logged_model_files(self, model_id: str, path: str) -> int:
        """Forget the file ``path``, or every file under the folder ``path``; how many."""
        paths.check_relative(path, "artifact path")
        with self._write() as conn:
            _require_open(conn, model_id)
            q = delete(_F).where(_F.model_id == model_id, in_folder(_F.path, path))
            return int(conn.execute(q).rowcount or 0)

    @retrying
    def finalize_logged_model(
        self, model_id: str, status: str, *, tree: str | None = None, flavor: str | None = None
    ) -> LoggedModel:
        """Set the model's status (READY or FAILED) and, when READY, its package tree."""
        if status not in STATUSES[1:]:
            raise ValidationError(f"Invalid final status {status!r}: READY or FAILED.")
        values: dict[str, Any] = {"status": status, "last_update_time": now_ms()}
        if tree is not None:
            values["tree"] = check_hash(tree, "the model's tree")
        if flavor:
            values["flavor"] = flavor[:64]
        with self._write() as conn:
            _require(conn, model_id, live=True)
            conn.execute(update(_L).where(_L.model_id == model_id).values(values))
            return _entities(conn, [_select(conn, model_id)])[0]

    @retrying
    def attach_logged_model_run(self, model_id: str, run_id: str) -> LoggedModel:
        """Make ``run_id`` the source of a model that has none yet (MLflow's LogOutputs
        after create_external_model); a model with a source keeps it."""
        with self._write() as conn:
            require_run(conn, run_id, active=True)
            _require(conn, model_id, live=True)
            q = update(_L).where(_L.model_id == model_id, _L.run_id.is_(None))
            conn.execute(q.values(run_id=run_id, last_update_time=now_ms()))
            return _entities(conn, [_select(conn, model_id)])[0]

    @retrying
    def delete_logged_model(self, model_id: str) -> None:
        """Mark the model deleted; its row stays for lineage and registered versions."""
        with self._write() as conn:
            _require(conn, model_id, live=True)
            values = {"status": DELETED, "last_update_time": now_ms()}
            conn.execute(update(_L).where(_L.model_id == model_id).values(values))

    @retrying
    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        rows = [
            {"model_id": model_id, "key": k, "value": v} for k, v in validate_tags(tags).items()
        ]
        with self._write() as conn:
            _require(conn, model_id, live=True)
            upsert(conn, LoggedModelTagRow, rows, ["model_id", "key"], ["value"])

    @retrying
    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        t = LoggedModelTagRow
        with self._write() as conn:
            _require(conn, model_id, live=True)
            gone = conn.execute(delete(t).where(t.model_id == model_id, t.key == key)).rowcount
            if not gone:
                raise NotFoundError(f"Logged model {model_id} has no tag {key!r}.")

    @retrying
    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        """Params are set once: logging a key again with another value is a conflict."""
        params = validate_params(params)
        p = LoggedModelParamRow
        with self._write() as conn:
            _require(conn, model_id, live=True)
            q = select(p.key, p.value).where(p.model_id == model_id, p.key.in_(list(params)))
            for key, old in conn.execute(q):
                if old != params[key]:
                    raise ConflictError(
                        f"Param {key!r} of logged model {model_id} is already {old!r}; "
                        f"it can't become {params[key]!r}."
                    )
            rows = [{"model_id": model_id, "key": k, "value": v} for k, v in params.items()]
            upsert(conn, p, rows, ["model_id", "key"], ["value"])

    @retrying
    def logged_model_params(self, model_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        p = LoggedModelParamRow
        out: dict[str, dict[str, str]] = {m: {} for m in model_ids}
        with self._read() as conn:
            for part in chunks(list(model_ids)):
                q = select(p).where(p.model_id.in_(part)).order_by(p.key)
                for r in conn.execute(q):
                    out[r.model_id][r.key] = r.value
        return out

    @retrying
    def runs_logged_models(self, run_ids: Sequence[str]) -> list[LoggedModel]:
        """The live logged models whose source is one of ``run_ids``, oldest first."""
        with self._read() as conn:
            rows: list[Any] = []
            for part in chunks(list(run_ids)):
                q = select(_L).where(_L.run_id.in_(part), _L.status != DELETED)
                rows += conn.execute(q.order_by(_L.creation_time, _L.model_id)).all()
            return _entities(conn, rows)

    @retrying
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        *,
        order_by: Sequence[tuple[str, bool]] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        """Live models in the experiments matching e.g. ``"name = 'model' AND
        tags.team = 'a'"``; ``order_by`` is (attribute, ascending) pairs; newest first by
        default."""
        check_max_results(max_results)
        eids = [parse_experiment_id(e) for e in experiment_ids]
        node = parse_filter(filter_string, LOGGED_MODELS)
        fp = fingerprint("logged_models", sorted(eids), filter_string, list(order_by))
        _, offset = decode_token(page_token, fp)
        q = select(_L).where(_L.experiment_id.in_(eids), _L.status != DELETED)
        if node is not None:
            q = q.where(compile_tree(node, lambda c: _comparison(c, self.dialect)))
        clauses = []
        for field, ascending in order_by:
            name = LOGGED_MODELS.attributes.get(field, "")
            col = _COLUMNS.get(name)
            if col is None:
                known = ", ".join(sorted(LOGGED_MODELS.attributes))
                raise ValidationError(f"Can't order logged models by {field!r}; use {known}.")
            if self.dialect == "postgresql" and name not in _NUMERIC:
                col = col.collate("C")  # byte order, as SQLite sorts
            clauses.append(col.asc() if ascending else col.desc())
        clauses += [_L.creation_time.desc(), _L.model_id]
        q = q.order_by(*clauses).offset(offset).limit(max_results + 1)
        with self._read() as conn:
            rows = conn.execute(q).all()
            items = _entities(conn, rows[:max_results])
        more = len(rows) > max_results
        return Page(items, encode_token((0, offset + max_results), fp) if more else None)


def _require(conn: Any, model_id: str, *, live: bool = False) -> Any:
    row = _select(conn, model_id) if isinstance(model_id, str) else None
    if row is None or (live and row.status == DELETED):
        raise NotFoundError(f"No logged model with id {model_id!r}.", model_id=model_id)
    return row


def _require_open(conn: Any, model_id: str) -> Any:
    """The model, if its files may still change: only while it is PENDING. A READY model's
    tree is fixed, and model versions name that tree (a version never changes)."""
    row = _require(conn, model_id, live=True)
    if row.status != STATUSES[0]:
        raise ConflictError(
            f"Logged model {model_id} is {row.status}: its files are fixed.",
            hint="Log a new model for new files.",
        )
    return row


def _comparison(c: Cmp, dialect: str) -> ColumnElement[bool]:
    if c.kind == "attribute":
        return compare(_COLUMNS[c.key], c.op, c.value, dialect, is_text=c.key not in _NUMERIC)
    t: Any = LoggedModelTagRow if c.kind == "tag" else LoggedModelParamRow
    has_key = select(1).where(t.model_id == _L.model_id, t.key == c.key)
    if c.op in ("IS NULL", "IS NOT NULL"):
        return ~has_key.exists() if c.op == "IS NULL" else has_key.exists()
    return has_key.where(compare(t.value, c.op, c.value, dialect, is_text=True)).exists()
