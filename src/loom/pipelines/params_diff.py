"""``loom params diff``: the params of the pipeline at two revisions, as ``dvc params diff``.

The params are every key of ``params.yaml`` plus the keys (or whole sections,
or whole files) that the stages of ``loom.yaml`` declare in other files; with
``deps=True`` only what the stages declare. Both sides read the keys declared
at either revision.

    >>> d = params_diff(ws.root)            # HEAD against the workspace
    >>> [(c.key, c.old, c.new) for c in d.changes]
    [('train.lr', 0.01, 0.02)]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loom.errors import warn
from loom.pipelines.compare import Diff, changes
from loom.pipelines.declared import DEFAULT_PARAMS, declared, merged
from loom.pipelines.formats import flatten, parse
from loom.pipelines.revfiles import Rev, Revisions


def params_diff(
    root: Path,
    old: str | None = "HEAD",
    new: str | None = None,
    *,
    unchanged: bool = False,
    deps: bool = False,
) -> Diff:
    """Params at ``old`` against ``new`` (None: the workspace); unchanged ones too if asked."""
    revs = Revisions(root)
    a, b = revs.resolve(old), revs.resolve(new)
    decl = merged(declared(revs, a), declared(revs, b))
    files = dict(decl.params)
    if not deps:
        files[DEFAULT_PARAMS] = None  # all of params.yaml, as DVC shows it
    before, after = params_at(revs, a, files), params_at(revs, b, files)
    if not any(before.values()) and not any(after.values()):
        warn(
            f"No params found {a.where} or {b.where}: no {DEFAULT_PARAMS}, and no stage in "
            "loom.yaml declares params that exist.",
            hint="Write params.yaml, or declare params of a stage: `params: [train.lr]`.",
        )
    return Diff(a, b, changes(before, after, unchanged=unchanged))


def params_at(
    revs: Revisions, rev: Rev, files: dict[str, tuple[str, ...] | None]
) -> dict[str, dict[str, Any]]:
    """``{file: {dotted key: value}}`` at ``rev``; a missing file has no keys."""
    raw = revs.read(rev, list(files))
    out: dict[str, dict[str, Any]] = {}
    for file, keys in files.items():
        data = raw[file]
        flat = flatten(parse(data, file, rev.where)) if data is not None else {}
        out[file] = flat if keys is None else _select(flat, keys)
    return out


def _select(flat: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The declared ``keys`` of ``flat``: a leaf itself, a section every key below it."""
    prefixes = tuple(k + "." for k in keys)
    wanted = set(keys)
    return {k: v for k, v in flat.items() if k in wanted or k.startswith(prefixes)}
