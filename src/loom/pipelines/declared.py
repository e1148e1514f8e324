"""Which params, metrics and plots files a ``loom.yaml`` declares, at one revision.

``loom.yaml`` is read by :mod:`loom.pipelines.spec` (templating, ``foreach``,
``matrix``, ``wdir``), its ``vars`` files and ``params.yaml`` read at the same
revision, so a diff sees each revision's pipeline as ``loom repro`` saw it.

    >>> d = declared(Revisions(root), Rev("workspace"))          # doctest: +SKIP
    >>> d.params, d.metrics                                      # doctest: +SKIP
    ({'params.yaml': ('train.lr',)}, ('metrics.json',))

Paths are relative to the workspace root. ``params.yaml`` is read whole by the
diff commands even when no stage names it (as ``dvc params diff`` does);
``--deps`` narrows to what stages declare.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loom.errors import ValidationError
from loom.paths import problem
from loom.pipelines.errors import PipelineError
from loom.pipelines.revfiles import Rev, Revisions, opening
from loom.pipelines.spec import DEFAULT_PARAMS, FILE, Out, Pipeline, loads

PLOT_PROPS = ("x", "y", "title", "x_label", "y_label")
__all__ = ["DEFAULT_PARAMS", "FILE", "Declared", "declared", "merged"]


@dataclass(frozen=True)
class Declared:
    """What a pipeline declares; ``params`` maps a file to its keys (None: the whole file)."""

    params: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()
    plots: dict[str, dict[str, Any]] = field(default_factory=dict)  # file -> x, y, title…


def declared(revs: Revisions, rev: Rev) -> Declared:
    """What ``loom.yaml`` declares at ``rev``; nothing where there is no loom.yaml."""
    data = revs.read(rev, [FILE])[FILE]
    if data is None:
        return Declared()
    try:
        pipeline = loads(data, read=revs.reader(rev))
    except PipelineError as exc:
        raise at_revision(exc, rev) from None
    return _of(pipeline)


def at_revision(exc: PipelineError, rev: Rev) -> ValidationError:
    """``exc`` (it names file and line) said with the revision it was found at."""
    return ValidationError(
        f"{opening(rev.where)}, {exc.message}",
        hint=exc.hint or "Fix the file named there; `git show REV:PATH` shows it at REV.",
        **exc.fields,
    )


def merged(a: Declared, b: Declared) -> Declared:
    """Everything either declares: a diff reads the same keys at both revisions, so a key
    shows as changed because its value changed, not because a stage began to declare it."""
    params = dict(a.params)
    for file, keys in b.params.items():
        params[file] = _union(params.get(file, ()), keys)
    metrics = tuple(dict.fromkeys(a.metrics + b.metrics))
    return Declared(params, metrics, {**b.plots, **a.plots})


def _of(pipeline: Pipeline) -> Declared:
    params: dict[str, tuple[str, ...] | None] = {}
    metrics: dict[str, None] = {}
    plots: dict[str, dict[str, Any]] = {}
    stages = pipeline.stages.values()
    for stage in stages:
        for p in stage.params:
            params[p.file] = _union(params.get(p.file, ()), None if p.key is None else (p.key,))
    for out in [*(o for s in stages for o in s.metrics), *pipeline.metrics]:
        metrics[out.path] = None
    for path, props in _plots([*(o for s in stages for o in s.plots), *pipeline.plots]):
        plots.setdefault(path, props)
    return Declared(params, tuple(metrics), plots)


def _plots(outs: Iterable[Out]) -> list[tuple[str, dict[str, Any]]]:
    """Each plots file and its props; DVC 3's ``{name: {y: {file: column}}}`` names files
    in ``y`` (each file with its columns, ``x`` possibly per file too)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for out in outs:
        props, y, x = out.options, out.options.get("y"), out.options.get("x")
        if not isinstance(y, Mapping):
            found.append((out.path, _plot_props(props)))
            continue
        for file, columns in y.items():
            path = _root_path(str(file))
            if path is None:
                continue  # outside the workspace: nothing a diff can read
            file_x = x.get(file) if isinstance(x, Mapping) else x
            found.append((path, _plot_props({**props, "x": file_x, "y": columns})))
    return found


def _plot_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """x, title and labels as text; y as a list of column names; anything else left out."""
    out: dict[str, Any] = {k: str(props[k]) for k in PLOT_PROPS if _text(props.get(k))}
    y = props.get("y")
    if isinstance(y, list):
        out["y"] = [str(c) for c in y if _text(c)]
    elif _text(y):
        out["y"] = [str(y)]
    else:
        out.pop("y", None)
    return out


def _text(v: Any) -> bool:
    return isinstance(v, str | int | float) and not isinstance(v, bool) and str(v) != ""


def _root_path(path: str) -> str | None:
    joined = posixpath.normpath(path)
    return None if joined == "." or problem(joined) is not None else joined


def _union(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Keys of a params file declared twice; None (the whole file) wins."""
    return None if a is None or b is None else tuple(dict.fromkeys(a + b))
