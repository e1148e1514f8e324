"""Logged models: one per ``log_model`` call (MLflow 3's LoggedModel), with tags."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, Row, insert, select

from loom import paths
from loom.errors import AlreadyExistsError, NotFoundError, ValidationError
from loom.store.base import StoreBase, now_ms
from loom.store.engine import retrying
from loom.store.entities import LoggedModel
from loom.store.registry_checks import check_text_field
from loom.store.runs import require_run
from loom.store.schema import KEY_LEN, ExperimentRow, LoggedModelRow, LoggedModelTagRow
from loom.store.upsert import upsert
from loom.store.validation import check_hash, parse_experiment_id, validate_run_id, validate_tags

_L = LoggedModelRow
_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")


class LoggedModelsMixin(StoreBase):
    @retrying
    def create_logged_model(
        self,
        experiment_id: str,
        name: str,
        tree: str,
        flavor: str,
        *,
        run_id: str | None = None,
        tags: dict[str, str] | None = None,
        model_id: str | None = None,
        status: str = "READY",
    ) -> LoggedModel:
        """Record a model package logged under ``name`` (its artifact path); its id is
        ``m-`` and 32 hex digits. A ``PENDING`` model (an MLflow client still uploading
        its files) may have no tree yet: ``tree`` "" until it is finalized.

        >>> store.create_logged_model("0", "model", tree_hash, "sklearn", run_id=run.run_id)
        LoggedModel(model_id='m-…', …)
        """
        eid = parse_experiment_id(experiment_id)
        name = check_text_field(
            "logged model name", paths.check_relative(name, "model path"), KEY_LEN
        )
        if model_id is None:
            model_id = "m-" + uuid.uuid4().hex
        elif not isinstance(model_id, str) or not _MODEL_ID.fullmatch(model_id):
            raise ValidationError(
                f"Invalid logged model id {model_id!r}: it is 'm-' and 32 hex digits.",
                hint="Leave model_id out to get a fresh one.",
            )
        row = {
            "model_id": model_id,
            "experiment_id": eid,
            "run_id": run_id,
            "name": name,
            "tree": tree if status == "PENDING" and tree == "" else check_hash(tree, "the tree"),
            "flavor": check_text_field("flavor", flavor, 64),
            "status": check_status(status),
            "creation_time": now_ms(),
        }
        row["last_update_time"] = row["creation_time"]
        tags = validate_tags(tags, "logged model tag")
        with self._write() as conn:
            found = conn.execute(
                select(ExperimentRow.experiment_id).where(ExperimentRow.experiment_id == eid)
            ).first()
            if found is None:
                raise NotFoundError(
                    f"No experiment with id {experiment_id!r}.", hint="loom exp list"
                )
            if run_id is not None:
                require_run(conn, run_id, active=True)
            if _select(conn, model_id) is not None:
                raise AlreadyExistsError(f"Logged model {model_id} already exists.")
            conn.execute(insert(_L).values(row))
            rows = [{"model_id": model_id, "key": k, "value": v} for k, v in tags.items()]
            upsert(conn, LoggedModelTagRow, rows, ["model_id", "key"], ["value"])
            return _entities(conn, [_select(conn, model_id)])[0]

    @retrying
    def get_logged_model(self, model_id: str) -> LoggedModel:
        """NotFoundError if there is none (an id is ``m-`` and 32 hex digits)."""
        with self._read() as conn:
            row = _select(conn, model_id) if isinstance(model_id, str) else None
            if row is None:
                raise NotFoundError(
                    f"No logged model with id {model_id!r}.",
                    hint="`loom runs show RUN_ID` lists a run's models; ids look like m-<32 hex>.",
                    model_id=model_id,
                )
            return _entities(conn, [row])[0]

    @retrying
    def list_logged_models(self, run_id: str) -> list[LoggedModel]:
        """The run's logged models, oldest first."""
        validate_run_id(run_id)
        with self._read() as conn:
            require_run(conn, run_id)
            q = select(_L).where(_L.run_id == run_id, _L.status != DELETED)
            q = q.order_by(_L.creation_time, _L.model_id)
            return _entities(conn, conn.execute(q).all())


STATUSES = ("PENDING", "READY", "FAILED")
DELETED = "DELETED"  # a deleted model keeps its row (lineage, registered versions)


def check_status(status: object) -> str:
    if status not in STATUSES:
        raise ValidationError(
            f"Invalid logged model status {status!r}: one of {', '.join(STATUSES)}."
        )
    return str(status)


def _select(conn: Connection, model_id: str) -> Row | None:
    if not _MODEL_ID.fullmatch(model_id):
        return None
    return conn.execute(select(_L).where(_L.model_id == model_id)).first()


def _entities(conn: Connection, rows: Sequence[Row | None]) -> list[LoggedModel]:
    present = [r for r in rows if r is not None]
    tags: dict[str, dict[str, str]] = {}
    ids = [r.model_id for r in present]
    if ids:
        t = LoggedModelTagRow
        for r in conn.execute(select(t).where(t.model_id.in_(ids)).order_by(t.key)):
            tags.setdefault(r.model_id, {})[r.key] = r.value
    return [
        LoggedModel(
            model_id=r.model_id,
            experiment_id=str(r.experiment_id),
            name=r.name,
            tree=r.tree,
            flavor=r.flavor,
            run_id=r.run_id,
            creation_time=r.creation_time,
            last_update_time=r.last_update_time,
            status=r.status,
            tags=tags.get(r.model_id, {}),
        )
        for r in present
    ]
