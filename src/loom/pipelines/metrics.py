"""``loom metrics show`` and ``loom metrics diff``: the metrics files of the stages of
``loom.yaml`` (their ``metrics:``), flattened to dotted keys, as ``dvc metrics``.

    >>> metrics_show(ws.root)
    {'metrics.json': {'auc': 0.91, 'loss.train': 0.2}}
    >>> [(c.key, c.delta) for c in metrics_diff(ws.root, "HEAD~1", "HEAD").changes]
    [('auc', 0.03)]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loom.errors import warn
from loom.pipelines.compare import Diff, changes
from loom.pipelines.declared import declared, merged
from loom.pipelines.formats import flatten, parse
from loom.pipelines.revfiles import Rev, Revisions

NO_METRICS_HINT = "Declare a stage's metrics files in loom.yaml: `metrics: [metrics.json]`."


def metrics_show(root: Path) -> dict[str, dict[str, Any] | None]:
    """``{file: {dotted key: value}}`` of the workspace; None for a file that is missing."""
    revs = Revisions(root)
    here = revs.resolve(None)
    files = declared(revs, here).metrics
    if not files:
        warn("No metrics files are declared in loom.yaml.", hint=NO_METRICS_HINT)
    found = metrics_at(revs, here, files)
    for path in (f for f, values in found.items() if values is None):
        warn(
            f"{path} is missing in the workspace.",
            hint="`loom repro` runs the stage that writes it.",
        )
    return found


def metrics_diff(
    root: Path, old: str | None = "HEAD", new: str | None = None, *, unchanged: bool = False
) -> Diff:
    """Metrics at ``old`` against ``new`` (None: the workspace), as ``dvc metrics diff``."""
    revs = Revisions(root)
    a, b = revs.resolve(old), revs.resolve(new)
    files = merged(declared(revs, a), declared(revs, b)).metrics
    if not files:
        warn(
            f"No metrics files are declared in loom.yaml {a.where} or {b.where}.",
            hint=NO_METRICS_HINT,
        )
    before, after = metrics_at(revs, a, files), metrics_at(revs, b, files)
    return Diff(a, b, changes(_present(before), _present(after), unchanged=unchanged))


def metrics_at(
    revs: Revisions, rev: Rev, files: tuple[str, ...]
) -> dict[str, dict[str, Any] | None]:
    """``{file: {dotted key: value}}`` at ``rev``; None for a missing file."""
    raw = revs.read(rev, list(files))
    return {
        f: None if (data := raw[f]) is None else flatten(parse(data, f, rev.where)) for f in files
    }


def _present(found: dict[str, dict[str, Any] | None]) -> dict[str, dict[str, Any]]:
    return {f: values for f, values in found.items() if values is not None}
