"""Two model versions side by side: what they are, the git commits, data inputs, params,
metrics and tags of their runs — the run part is ``loom.tracking.compare``'s.

    >>> d = diff_versions(client, "rag", 2, 3)                    # doctest: +SKIP
    >>> [(r.key, r.values) for r in d.rows if r.differs][:2]      # doctest: +SKIP
    [('tree', ('9f2c…', 'ab12…')), ('git.commit', ('4f5e…', '77aa…'))]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loom.entities import ModelVersion, Run, RunInput
from loom.lineage.at import run_of
from loom.lineage.models import get_version
from loom.lineage.walk import git_commit
from loom.tracking.client import Client
from loom.tracking.compare import Row, Value, compare_runs, row

SECTIONS = ("version", "git", "inputs", "attributes", "params", "metrics", "tags")


@dataclass(frozen=True)
class VersionDiff:
    name: str
    versions: tuple[ModelVersion, ...]
    runs: tuple[Run | None, ...]
    rows: list[Row]  # sections in the order of SECTIONS


def diff_versions(client: Client, name: str, *refs: int | str) -> VersionDiff:
    """Compare versions of ``name`` (numbers, ``latest`` or ``@alias`` refs)."""
    versions = [get_version(client, name, ref) for ref in refs]
    runs = [run_of(client, mv) for mv in versions]
    rows = [
        row("semver", "version", [mv.semver for mv in versions]),
        row("tree", "version", [mv.tree for mv in versions]),
        row("flavor", "version", [mv.flavor for mv in versions]),
        row("created", "version", [mv.creation_time for mv in versions]),
        row("aliases", "version", [", ".join(mv.aliases) or None for mv in versions]),
        row("run", "version", [mv.run_id for mv in versions]),
        row("git.commit", "git", [git_commit(r) if r else None for r in runs]),
        row("git.dirty", "git", [r.tags.get("loom.git.dirty") if r else None for r in runs]),
        *_input_rows(runs),
        *_run_rows(runs),
    ]
    return VersionDiff(name, tuple(versions), tuple(runs), rows)


def _input_rows(runs: Sequence[Run | None]) -> list[Row]:
    """One row per input (its name, else its path): the content hash each run read."""
    per_run = [_inputs(r.inputs) if r is not None else {} for r in runs]
    keys = sorted({k for m in per_run for k in m})
    return [row(f"inputs.{k}", "inputs", [m.get(k) for m in per_run]) for k in keys]


def _inputs(inputs: Sequence[RunInput]) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for i in inputs:
        value = i.hash + (" (modified)" if i.modified else "")
        out.setdefault(i.name or i.path, []).append(value)
    return {k: ", ".join(v) for k, v in out.items()}


def _run_rows(runs: Sequence[Run | None]) -> list[Row]:
    """compare_runs over the runs there are; a version without a run gets None."""
    present = [r for r in runs if r is not None]
    if not present:
        return []
    out = []
    for r in compare_runs(present):
        values = iter(r.values)
        spread: list[Value] = [next(values) if run is not None else None for run in runs]
        out.append(row(r.key, r.section, spread))
    return out
