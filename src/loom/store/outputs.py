"""Run outputs: what a run produced, by content hash (a file, a folder's tree, a model).

Stand-in written by R3 (lineage) against the shared plan until R1's registry store
lands: ``log_outputs`` / ``list_outputs`` with the names and behaviour of registry.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select

from loom.errors import ValidationError
from loom.store.base import StoreBase
from loom.store.engine import retrying
from loom.store.entities import RunOutput
from loom.store.runs import require_run
from loom.store.schema import OutputRow
from loom.store.validation import validate_inputs

OUTPUT_KINDS = ("file", "directory", "model")


class OutputsMixin(StoreBase):
    @retrying
    def log_outputs(self, run_id: str, outputs: Sequence[RunOutput]) -> None:
        """Record what the run produced; logging the same (path, hash) twice keeps one."""
        validate_outputs(outputs)
        with self._write() as conn:
            require_run(conn, run_id, active=True)
            q = select(OutputRow.path, OutputRow.hash).where(OutputRow.run_id == run_id)
            seen = {(r.path, r.hash) for r in conn.execute(q)}
            rows = []
            for o in outputs:
                if (o.path, o.hash) not in seen:
                    seen.add((o.path, o.hash))
                    rows.append(
                        {
                            "run_id": run_id,
                            "path": o.path,
                            "hash": o.hash,
                            "size": o.size,
                            "kind": o.kind,
                        }
                    )
            if rows:
                conn.execute(insert(OutputRow), rows)

    @retrying
    def list_outputs(self, run_id: str) -> list[RunOutput]:
        """The run's outputs in the order they were logged."""
        with self._read() as conn:
            require_run(conn, run_id)
            q = select(OutputRow).where(OutputRow.run_id == run_id).order_by(OutputRow.id)
            return [RunOutput(r.path, r.hash, r.size, r.kind) for r in conn.execute(q)]


def validate_outputs(outputs: Sequence[RunOutput]) -> None:
    for o in outputs:
        if o.kind not in OUTPUT_KINDS:
            raise ValidationError(
                f"Invalid output kind {o.kind!r} for {o.path!r}: one of {', '.join(OUTPUT_KINDS)}."
            )
    # path and hash follow the rules of inputs (same columns, same limits)
    from loom.store.entities import RunInput

    validate_inputs([RunInput(o.path, o.hash) for o in outputs])
