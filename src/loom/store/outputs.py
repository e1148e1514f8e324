"""Run outputs: what a run produced, by content hash (lineage joins them to inputs)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select

from loom.errors import ValidationError
from loom.store.base import StoreBase, chunks
from loom.store.engine import retrying
from loom.store.entities import RunOutput
from loom.store.runs import require_run
from loom.store.schema import OutputRow
from loom.store.validation import check_hash, validate_run_id

_KINDS = ("file", "directory", "model")


class OutputsMixin(StoreBase):
    @retrying
    def log_outputs(self, run_id: str, outputs: Sequence[RunOutput]) -> None:
        """Record what the run produced; logging the same (path, hash) twice keeps one.

        >>> store.log_outputs(run.run_id, [RunOutput("model", tree_hash, kind="model")])
        """
        validate_run_id(run_id)
        for o in outputs:
            check_output(o)
        with self._write() as conn:
            require_run(conn, run_id, active=True)
            q = select(OutputRow.path, OutputRow.hash).where(OutputRow.run_id == run_id)
            seen = {(p, h) for p, h in conn.execute(q)}
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
            for part in chunks(rows):
                conn.execute(insert(OutputRow), part)

    @retrying
    def list_outputs(self, run_id: str) -> list[RunOutput]:
        """The run's outputs in the order they were logged."""
        validate_run_id(run_id)
        with self._read() as conn:
            require_run(conn, run_id)
            rows = conn.execute(
                select(OutputRow).where(OutputRow.run_id == run_id).order_by(OutputRow.id)
            ).all()
            return [RunOutput(r.path, r.hash, r.size, r.kind) for r in rows]


def check_output(o: RunOutput) -> None:
    if not isinstance(o.path, str) or not o.path or len(o.path) > 1000:
        raise ValidationError(f"Invalid output path {o.path!r}: 1 to 1000 characters.")
    if any(ord(c) < 32 or c == "\x7f" for c in o.path):
        raise ValidationError(f"Invalid output path {o.path!r}: it contains a control character.")
    check_hash(o.hash, f"output {o.path!r}")
    if o.kind not in _KINDS:
        raise ValidationError(
            f"Invalid output kind {o.kind!r} for {o.path!r}: one of {', '.join(_KINDS)}."
        )
    if o.size is not None and (
        isinstance(o.size, bool) or not isinstance(o.size, int) or o.size < 0
    ):
        raise ValidationError(f"Invalid size {o.size!r} for output {o.path!r}.")
