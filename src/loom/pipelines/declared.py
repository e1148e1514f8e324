"""Which params, metrics and plots files a ``loom.yaml`` declares (at one revision).

    >>> d = declared(b"stages: {train: {cmd: x, params: [train.lr], metrics: [m.json]}}", "")
    >>> d.params, d.metrics
    ({'params.yaml': ('train.lr',)}, ('m.json',))

Paths are resolved against each stage's ``wdir`` and made relative to the
workspace root. ``params.yaml`` is read whole by the diff commands even when
no stage names it (as ``dvc params diff`` does); ``--deps`` narrows to what
stages declare.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from loom.errors import ValidationError
from loom.paths import problem
from loom.pipelines.formats import load_yaml
from loom.pipelines.revfiles import Rev, Revisions

PIPELINE_FILE = "loom.yaml"
DEFAULT_PARAMS = "params.yaml"
PLOT_PROPS = ("x", "y", "title", "x_label", "y_label")


@dataclass(frozen=True)
class Declared:
    """What a pipeline declares; ``params`` maps a file to its keys (None: the whole file)."""

    params: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()
    plots: dict[str, dict[str, Any]] = field(default_factory=dict)  # file -> x, y, title…


def declared(text: bytes | None, where: str) -> Declared:
    """What the ``loom.yaml`` whose bytes are ``text`` declares (None: no loom.yaml)."""
    if text is None:
        return Declared()
    spec = _load(text, where)
    params: dict[str, tuple[str, ...] | None] = {}
    metrics: dict[str, None] = {}
    plots: dict[str, dict[str, Any]] = {}
    for wdir, stage in _stages(spec, where):
        for file, keys in _params(stage.get("params"), wdir, where):
            params[file] = _union(params.get(file, ()), keys)
        for path, _ in _entries(stage.get("metrics"), "metrics", wdir, where):
            metrics[path] = None
        for path, props in _entries(stage.get("plots"), "plots", wdir, where):
            plots.setdefault(path, _plot_props(props))
    for path, props in _top_plots(spec.get("plots"), where):
        plots.setdefault(path, props)
    return Declared(params, tuple(metrics), plots)


def _load(text: bytes, where: str) -> dict[str, Any]:
    try:
        spec = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise _invalid(f"it is not valid YAML{at}: {getattr(exc, 'problem', exc)}", where) from None
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise _invalid("its top level must be a mapping (`stages:` …)", where)
    return dict(spec)


def _stages(spec: Mapping[str, Any], where: str) -> list[tuple[str, Mapping[str, Any]]]:
    """Each stage of ``spec`` as ``(wdir, stage)``, ``foreach`` and ``matrix`` expanded.

    A minimal reader of its own until ``loom.pipelines.spec`` (loom.yaml with all its
    templating) lands: ``${item}``, ``${item.k}`` and ``${key}`` of foreach/matrix are
    substituted; a ``foreach`` over a ``${…}`` reference is left out.
    """
    stages = spec.get("stages") or {}
    if not isinstance(stages, Mapping):
        raise _invalid("`stages:` must be a mapping of stage names to stages", where)
    out: list[tuple[str, Mapping[str, Any]]] = []
    for name, stage in stages.items():
        if not isinstance(stage, Mapping):
            raise _invalid(f"stage {name!r} must be a mapping (cmd, deps, outs…)", where)
        for ctx in _contexts(stage):
            body = _subst(stage.get("do", stage), ctx) if ctx else stage
            if isinstance(body, Mapping):
                out.append((_wdir(body.get("wdir"), name, where), body))
    return out


def _contexts(stage: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "foreach" in stage:
        items = stage["foreach"]
        if isinstance(items, Mapping):
            return [{"key": k, "item": v} for k, v in items.items()]
        return [{"item": v} for v in items] if isinstance(items, list) else []
    if isinstance(stage.get("matrix"), Mapping):
        axes = {k: v if isinstance(v, list) else [v] for k, v in stage["matrix"].items()}
        return [
            {"item": dict(zip(axes, combo, strict=True))}
            for combo in itertools.product(*axes.values())
        ]
    return [{}]


_REF = re.compile(r"\$\{\s*([\w.-]+)\s*\}")


def _subst(value: Any, ctx: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return _REF.sub(lambda m: str(_lookup(ctx, m.group(1), m.group(0))), value)
    if isinstance(value, Mapping):
        return {_subst(k, ctx): _subst(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_subst(v, ctx) for v in value]
    return value


def _lookup(ctx: dict[str, Any], dotted: str, unresolved: str) -> Any:
    value: Any = ctx
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return unresolved
        value = value[part]
    return value


def _params(entries: Any, wdir: str, where: str) -> list[tuple[str, tuple[str, ...] | None]]:
    """``[key, section, {file: [key, …]}, {file: null}]`` as ``(file, keys or None)``."""
    out: list[tuple[str, tuple[str, ...] | None]] = []
    for entry in _as_list(entries):
        if isinstance(entry, str):
            out.append((_join(wdir, DEFAULT_PARAMS, where), (entry,)))
        elif isinstance(entry, Mapping):
            for file, keys in entry.items():
                path = _join(wdir, str(file), where)
                out.append((path, tuple(map(str, _as_list(keys))) or None))
        else:
            raise _invalid(
                f"a params entry must be a key or {{file: [keys]}}, not {entry!r}", where
            )
    return out


def _entries(entries: Any, what: str, wdir: str, where: str) -> list[tuple[str, Any]]:
    """``[path, {path: {props}}]`` as ``(path relative to the root, props)``."""
    out: list[tuple[str, Any]] = []
    for entry in _as_list(entries):
        if isinstance(entry, str):
            out.append((_join(wdir, entry, where), None))
        elif isinstance(entry, Mapping):
            out += [(_join(wdir, str(p), where), props) for p, props in entry.items()]
        else:
            raise _invalid(
                f"a {what} entry must be a path or {{path: {{…}}}}, not {entry!r}", where
            )
    return out


def _top_plots(entries: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """DVC 3's top-level ``plots:``: paths, ``{path: props}``, or ``{name: {y: {file: col}}}``."""
    out: list[tuple[str, dict[str, Any]]] = []
    for path, props in _entries(entries, "plots", ".", where):
        props = props if isinstance(props, Mapping) else {}
        y = props.get("y")
        if not isinstance(y, Mapping):
            out.append((path, _plot_props(props)))
            continue
        x = props.get("x")
        for file, cols in y.items():
            file_x = x.get(file) if isinstance(x, Mapping) else x
            out.append(
                (_join(".", str(file), where), _plot_props({**props, "x": file_x, "y": cols}))
            )
    return out


def _plot_props(props: Any) -> dict[str, Any]:
    """x, title and labels as text; y as a list of column names; anything else left out."""
    props = props if isinstance(props, Mapping) else {}
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


def _wdir(value: Any, stage: str, where: str) -> str:
    if value is None:
        return "."
    return _join(".", str(value), where, f"the wdir of stage {stage!r}")


def _join(wdir: str, path: str, where: str, what: str = "") -> str:
    joined = posixpath.normpath(posixpath.join(wdir, path))
    why = problem(joined) if joined != "." else None
    if why is not None or joined.startswith("../"):
        raise _invalid(f"{what or repr(path)} is not a path inside the workspace ({why})", where)
    return joined


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _invalid(problem_: str, where: str) -> ValidationError:
    return ValidationError(
        f"{PIPELINE_FILE} {where}: {problem_}.".replace("  ", " "),
        hint=f"Fix {PIPELINE_FILE} (or compare other revisions); `git show REV:{PIPELINE_FILE}` "
        "shows it at a revision.",
        path=PIPELINE_FILE,
    )


def merged(a: Declared, b: Declared) -> Declared:
    """Everything either declares: a diff reads the same keys at both revisions, so a key
    shows as changed because its value changed, not because a stage began to declare it."""
    params = dict(a.params)
    for file, keys in b.params.items():
        params[file] = _union(params.get(file, ()), keys)
    metrics = tuple(dict.fromkeys(a.metrics + b.metrics))
    return Declared(params, metrics, {**b.plots, **a.plots})


def declared_at(revs: Revisions, rev: Rev) -> Declared:
    """What ``loom.yaml`` declares at ``rev`` (nothing where it is missing)."""
    return declared(revs.read(rev, [PIPELINE_FILE])[PIPELINE_FILE], rev.where)


def _union(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Keys of a params file declared twice; None (the whole file) wins."""
    return None if a is None or b is None else tuple(dict.fromkeys(a + b))
