"""MLflow dataset inputs of runs (``runs/log-inputs``), kept as MLflow describes them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from loom.entities import DatasetInput
from loom.errors import ValidationError
from loom.store.base import StoreBase, chunks
from loom.store.engine import retrying
from loom.store.runs import require_run
from loom.store.schema import KEY_LEN, NAME_LEN, RunDatasetRow
from loom.store.validation import validate_run_id

# MLflow's limits (mlflow/utils/validation.py): name 500, digest 36, source type 36,
# source 65535, schema and profile 1 MiB each
_LIMITS = {"name": NAME_LEN, "digest": 36, "source_type": 36, "source": 65535}
_BIG = 1 << 20
CONTEXT_TAG = "mlflow.data.context"


class DatasetsMixin(StoreBase):
    @retrying
    def log_datasets(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record dataset inputs; the same (name, digest, context) again is a no-op."""
        validate_run_id(run_id)
        for d in datasets:
            _validate(d)
        with self._write() as conn:
            require_run(conn, run_id, active=True)
            have = {
                (r.name, r.digest, r.context)
                for r in conn.execute(
                    select(RunDatasetRow.name, RunDatasetRow.digest, RunDatasetRow.context).where(
                        RunDatasetRow.run_id == run_id
                    )
                )
            }
            rows: list[Any] = []
            for d in datasets:
                if (d.name, d.digest, d.context) in have:
                    continue
                have.add((d.name, d.digest, d.context))
                rows.append(_row(run_id, d))
            if rows:
                conn.execute(insert(RunDatasetRow), rows)

    @retrying
    def list_datasets(self, run_ids: Sequence[str]) -> dict[str, list[DatasetInput]]:
        """Each run's dataset inputs, in the order they were logged."""
        out: dict[str, list[DatasetInput]] = {r: [] for r in run_ids}
        if not run_ids:
            return out
        with self._read() as conn:
            rows: list[Any] = []
            for part in chunks(list(run_ids)):
                q = select(RunDatasetRow).where(RunDatasetRow.run_id.in_(part))
                rows += conn.execute(q).all()
            for r in sorted(rows, key=lambda r: r.id):
                out[r.run_id].append(
                    DatasetInput(
                        r.name,
                        r.digest,
                        r.source_type,
                        r.source,
                        r.schema,
                        r.profile,
                        r.context,
                        json.loads(r.tags) if r.tags else {},
                    )
                )
        return out


def _validate(d: DatasetInput) -> None:
    for field, limit in _LIMITS.items():
        value = getattr(d, field)
        if not isinstance(value, str) or (field != "source" and not value):
            raise ValidationError(f"A dataset's {field} must be a non-empty string.")
        if len(value) > limit:
            raise ValidationError(
                f"A dataset's {field} is {len(value)} characters; the limit is {limit}."
            )
    for field in ("schema", "profile"):
        value = getattr(d, field)
        if value is not None and len(value) > _BIG:
            raise ValidationError(f"A dataset's {field} is over the limit of {_BIG} characters.")
    if d.context is not None and len(d.context) > KEY_LEN:
        raise ValidationError(f"A dataset's context is over {KEY_LEN} characters.")


def _row(run_id: str, d: DatasetInput) -> dict:
    return {
        "run_id": run_id,
        "name": d.name,
        "digest": d.digest,
        "source_type": d.source_type,
        "source": d.source,
        "schema": d.schema,
        "profile": d.profile,
        "context": d.context,
        "tags": json.dumps(d.tags) if d.tags else None,
    }
