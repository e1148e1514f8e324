"""``dvc.yaml``'s templated stages, expanded as DVC names them: ``train@a``, ``grid@x-1``.

``loom import-dvc`` needs each stage of ``dvc.lock`` back with its definition
(its ``wdir``, and which outs are ``cache: false``). DVC's lock holds only the
generated names, so the templates are expanded here the way DVC does: vars from
``params.yaml`` and ``vars``, ``foreach`` over a list (``NAME@value``, or
``NAME@0`` for non-scalars) or a mapping (``NAME@key``), ``matrix`` (values
joined with ``-``; a non-scalar value as ``key0``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_REF = re.compile(r"(?<!\\)\$\{\s*([^}]+?)\s*\}")


class TemplateError(ValueError):
    """A ``${…}`` that names nothing, or a foreach/matrix that is not a list or mapping."""


def lookup(context: dict[str, Any], expr: str) -> Any:
    """``a.b[0].c`` in ``context``."""
    value: Any = context
    for part in re.findall(r"[^.\[\]]+", expr):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise TemplateError(f"${{{expr}}} is not defined")
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def interpolate(value: Any, context: dict[str, Any]) -> Any:
    """``value`` with every ``${…}`` filled in; a string that is one reference keeps its type."""
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return lookup(context, whole[1])
        return _REF.sub(lambda m: _text(lookup(context, m[1])), value)
    if isinstance(value, list):
        return [interpolate(v, context) for v in value]
    if isinstance(value, dict):
        return {interpolate(k, context): interpolate(v, context) for k, v in value.items()}
    return value


def _scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


def expand(name: str, body: dict[str, Any], context: dict[str, Any]) -> Iterator[tuple[str, dict]]:
    """The stages one ``dvc.yaml`` entry stands for, each with its templates filled in."""
    if "foreach" in body:
        items = interpolate(body["foreach"], context)
        do = body.get("do") or {}
        if isinstance(items, dict):
            pairs = [(str(k), {"item": v, "key": k}) for k, v in items.items()]
        elif isinstance(items, list):
            as_index = not all(_scalar(v) for v in items)
            pairs = [(str(i) if as_index else _text(v), {"item": v}) for i, v in enumerate(items)]
        else:
            raise TemplateError(f"stage {name}: foreach must be a list or a mapping")
        for key, extra in pairs:
            yield f"{name}@{key}", interpolate(do, {**context, **extra})
    elif "matrix" in body:
        axes = {k: interpolate(v, context) for k, v in body["matrix"].items()}
        if not all(isinstance(v, list) for v in axes.values()):
            raise TemplateError(f"stage {name}: each matrix entry must be a list")
        rest = {k: v for k, v in body.items() if k != "matrix"}
        for combo in _product(list(axes.items())):
            key = "-".join(_text(v) if _scalar(v) else f"{k}{i}" for k, (i, v) in combo.items())
            item = {k: v for k, (_, v) in combo.items()}
            yield f"{name}@{key}", interpolate(rest, {**context, "item": item})
    else:
        yield name, interpolate(body, context)


def _product(axes: list[tuple[str, list]]) -> Iterator[dict[str, tuple[int, Any]]]:
    if not axes:
        yield {}
        return
    (key, values), rest = axes[0], axes[1:]
    for i, v in enumerate(values):
        for tail in _product(rest):
            yield {key: (i, v), **tail}


def load_context(root: Path, entries: list[Any], read) -> dict[str, Any]:
    """The template context of ``dvc.yaml``: ``params.yaml`` if there, then each ``vars`` entry
    (a file, ``file:key,key``, or a mapping). ``read(path)`` parses a params file."""
    context: dict[str, Any] = {}
    if (root / "params.yaml").is_file():
        context.update(read(root / "params.yaml"))
    for entry in entries:
        if isinstance(entry, dict):
            context.update(entry)
            continue
        file, _, keys = str(entry).partition(":")
        values = read(root / file)
        if keys:
            values = {k: lookup(values, k) for k in keys.split(",")}
        context.update(values)
    return context
