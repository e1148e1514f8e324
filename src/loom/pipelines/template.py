"""Templating in ``loom.yaml`` as in ``dvc.yaml``: ``vars``, ``${…}``, ``foreach``, ``matrix``.

- ``vars: [params.yaml, {extra: 1}]`` — files (YAML, JSON, TOML; ``file.yaml:a,b``
  takes only those keys) and inline mappings, merged into one context. A
  ``params.yaml`` next to ``loom.yaml`` is in the context without being listed.
  A key defined twice with different values is refused.
- ``${key}``, ``${key.sub}``, ``${list[0]}``, ``${item}``, ``${item.key}``, ``${key}``
  (the foreach key): a string that is exactly one ``${…}`` takes the value itself
  (a list, a number); inside a longer string the value is written out (booleans
  as ``true``/``false``). ``\\${`` is a literal ``${``.
- ``foreach: [a, b] | {k: v} | ${key}`` with ``do: {…}`` gives stages ``NAME@a``,
  ``NAME@k`` (``NAME@0`` for a list of mappings); ``matrix: {model: [a, b],
  lr: [0.1, 1]}`` gives ``NAME@a-0.1`` … with ``${item.model}``.

    >>> interpolate("python train.py --lr ${train.lr}", {"train": {"lr": 0.1}}, None)
    'python train.py --lr 0.1'
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from typing import Any

from loom.pipelines.errors import PipelineError, Where
from loom.pipelines.yamlfile import YList, YMap, read_values

# ${ expr } not preceded by a backslash
_REF = re.compile(r"(?<!\\)\$\{\s*([^{}]*?)\s*\}")
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
Reader = Callable[[str], bytes | None]  # root-relative path -> bytes, None if missing


def lookup(context: Mapping[str, Any], expr: str, where: Where | None) -> Any:
    """The value ``expr`` (``a.b``, ``a[0].c``) names in ``context``."""
    node: Any = context
    pos = 0
    done: list[str] = []
    while pos < len(expr):
        if expr[pos] == "." and done:
            pos += 1
        m = _PART.match(expr, pos)
        if m is None:
            raise PipelineError(where, f"${{{expr}}} is not a valid reference.")
        pos = m.end()
        if m[2] is not None:
            index = int(m[2])
            if not isinstance(node, list) or index >= len(node):
                raise _unknown(where, expr, "".join(done) or expr)
            node = node[index]
            done.append(f"[{index}]")
            continue
        key = m[1]
        if not isinstance(node, Mapping) or key not in node:
            raise _unknown(where, expr, key)
        node = node[key]
        done.append(("." if done else "") + key)
    return node


def _unknown(where: Where | None, expr: str, key: str) -> PipelineError:
    return PipelineError(
        where,
        f"${{{expr}}}: {key!r} is not defined.",
        hint="Define it in params.yaml or under `vars:` in loom.yaml (or use ${item} in "
        "a foreach stage).",
        key=expr,
    )


def interpolate(text: str, context: Mapping[str, Any], where: Where | None) -> Any:
    """``text`` with every ``${…}`` filled in; a string that is one reference gives its value."""
    if "${" not in text:
        return text
    whole = _REF.fullmatch(text)
    if whole is not None:
        return lookup(context, whole[1], where)

    def fill(m: re.Match[str]) -> str:
        value = lookup(context, m[1], where)
        if isinstance(value, dict | list):
            raise PipelineError(
                where,
                f"${{{m[1]}}} is a {'mapping' if isinstance(value, dict) else 'list'} "
                "and can't be written inside a string.",
                hint="Reference one of its values, e.g. ${" + m[1] + ".key}.",
            )
        return to_text(value)

    return _REF.sub(fill, text).replace("\\${", "${")


def to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def resolve(value: Any, context: Mapping[str, Any], file: str, line: int) -> Any:
    """``value`` (from the YAML loader) with every string and key interpolated; lines kept."""
    if isinstance(value, str):
        return interpolate(value, context, Where(file, line))
    if isinstance(value, YMap | dict):
        out = YMap()
        out.line = getattr(value, "line", line)
        lines = getattr(value, "lines", {})
        for k, v in value.items():
            at = lines.get(k, out.line)
            key = interpolate(k, context, Where(file, at)) if isinstance(k, str) else k
            if isinstance(key, dict | list):
                raise PipelineError(
                    Where(file, at), f"the key {k!r} became a {type(key).__name__}."
                )
            out[key] = resolve(v, context, file, at)
            out.lines[key] = at
        return out
    if isinstance(value, YList | list):
        items = YList()
        items.line = getattr(value, "line", line)
        lines = getattr(value, "lines", [])
        for i, v in enumerate(value):
            at = lines[i] if i < len(lines) else items.line
            items.append(resolve(v, context, file, at))
            items.lines.append(at)
        return items
    return value


# -- vars -------------------------------------------------------------------------


def load_vars(
    entries: Any, read: Reader, file: str, line: int, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The context ``vars`` entries make, merged onto ``base``."""
    context: dict[str, Any] = dict(base or {})
    sources: dict[str, str] = {}
    if entries is None:
        return context
    if not isinstance(entries, list):
        raise PipelineError(
            Where(file, line),
            "vars must be a list of files and mappings.",
            hint="e.g. vars: [params.yaml, {epochs: 10}]",
        )
    for i, entry in enumerate(entries):
        at = Where(file, entries.line_of(i) if isinstance(entries, YList) else line)
        if isinstance(entry, str):
            merge(context, vars_file(entry, read, at), at, sources, entry)
        elif isinstance(entry, dict):
            merge(context, plain(entry), at, sources, str(at))
        else:
            raise PipelineError(
                at, f"a vars entry must be a file name or a mapping, not {entry!r}."
            )
    return context


def vars_file(entry: str, read: Reader, at: Where) -> dict[str, Any]:
    """The values of ``file`` or ``file:key1,key2`` (paths relative to the root)."""
    path, keys = entry, None
    if ":" in entry and read(entry) is None:
        path, _, wanted = entry.rpartition(":")
        keys = [k.strip() for k in wanted.split(",") if k.strip()]
    data = read(path)
    if data is None:
        raise PipelineError(
            at,
            f"the vars file {path} does not exist.",
            hint="Create it, or remove it from vars.",
            path=path,
        )
    values = read_values(data, path)
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise PipelineError(at, f"{path} must hold a mapping of names to values.", path=path)
    values = plain(values)
    if keys is None:
        return values
    return {k: lookup(values, k, at) for k in keys}


def merge(
    into: dict[str, Any], new: Mapping[str, Any], at: Where, sources: dict[str, str], name: str
) -> None:
    """Merge ``new`` into ``into`` key by key; a leaf defined twice differently is refused."""

    def walk(dst: dict[str, Any], src: Mapping[str, Any], prefix: str) -> None:
        for key, value in src.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, dict) and isinstance(dst.get(key), dict):
                dst[key] = dict(dst[key])
                walk(dst[key], value, dotted + ".")
            elif key in dst and dst[key] != value:
                raise PipelineError(
                    at,
                    f"vars: {dotted!r} is defined twice with different values "
                    f"({sources.get(dotted, 'before')} and {name}).",
                    hint="Rename one of them; a value may be defined once.",
                    key=dotted,
                )
            else:
                dst[key] = value
                sources[dotted] = name

    walk(into, new, "")


def plain(value: Any) -> Any:
    """YMap/YList as plain dicts and lists (what the context and the lock hold)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# -- foreach and matrix -----------------------------------------------------------


def expand(
    name: str, body: YMap, context: dict[str, Any], file: str
) -> list[tuple[str, YMap, dict[str, Any], int]]:
    """The stages one entry of ``stages:`` makes: ``(name, body, context, line)`` each."""
    if "foreach" in body:
        return _foreach(name, body, context, file)
    if "matrix" in body:
        return _matrix(name, body, context, file)
    return [(name, body, context, body.line)]


def _do(name: str, body: YMap, file: str, key: str) -> YMap:
    extra = set(body) - {key, "do"}
    if extra:
        k = sorted(extra, key=str)[0]
        raise PipelineError(
            Where(file, body.line_of(k)),
            f"stage {name!r}: {k!r} can't be next to {key}; put it under do:.",
        )
    do = body.get("do")
    if not isinstance(do, YMap):
        raise PipelineError(
            Where(file, body.line_of("do") if "do" in body else body.line),
            f"stage {name!r}: {key} needs a do: mapping with the stage to repeat.",
            hint="e.g. foreach: [val, test]\n  do:\n    cmd: python eval.py ${item}",
        )
    return do


def _items_of(value: Any, context: dict[str, Any], at: Where) -> Any:
    if isinstance(value, str):
        value = interpolate(value, context, at)
    return plain(value)


def _foreach(name: str, body: YMap, context: dict[str, Any], file: str):
    at = Where(file, body.line_of("foreach"))
    if "matrix" in body:
        raise PipelineError(at, f"stage {name!r}: use foreach or matrix, not both.")
    do = _do(name, body, file, "foreach")
    items = _items_of(body["foreach"], context, at)
    if isinstance(items, dict):
        pairs = [(str(k), {"key": k, "item": v}) for k, v in items.items()]
    elif isinstance(items, list):
        pairs = [
            (str(i) if isinstance(v, dict | list) else to_text(v), {"item": v})
            for i, v in enumerate(items)
        ]
    else:
        raise PipelineError(
            at,
            f"stage {name!r}: foreach needs a list or a mapping, not {items!r}.",
            hint="e.g. foreach: [val, test], or foreach: ${datasets} naming a list in params.yaml",
        )
    return _named(name, pairs, do, context, at)


def _matrix(name: str, body: YMap, context: dict[str, Any], file: str):
    at = Where(file, body.line_of("matrix"))
    do = YMap((k, v) for k, v in body.items() if k != "matrix")
    do.line, do.lines = body.line, dict(body.lines)
    grid = body["matrix"]
    if not isinstance(grid, dict) or not grid:
        raise PipelineError(
            at,
            f"stage {name!r}: matrix needs a mapping of names to lists.",
            hint="e.g. matrix: {model: [a, b], lr: [0.1, 1]}",
        )
    axes: list[tuple[str, list[Any]]] = []
    for key, values in grid.items():
        where = Where(file, grid.line_of(key) if isinstance(grid, YMap) else at.line)
        values = _items_of(values, context, where)
        if not isinstance(values, list) or not values:
            raise PipelineError(where, f"stage {name!r}: matrix {key!r} needs a non-empty list.")
        axes.append((str(key), values))
    pairs = []
    for combo in itertools.product(*(list(enumerate(v)) for _, v in axes)):
        item = {key: value for (key, _), (_, value) in zip(axes, combo, strict=True)}
        label = "-".join(
            f"{key}{i}" if isinstance(value, dict | list) else to_text(value)
            for (key, _), (i, value) in zip(axes, combo, strict=True)
        )
        pairs.append((label, {"item": item}))
    return _named(name, pairs, do, context, at)


def _named(name: str, pairs, do: YMap, context: dict[str, Any], at: Where):
    out = []
    seen: set[str] = set()
    for label, extra in pairs:
        full = f"{name}@{label}"
        if full in seen:
            raise PipelineError(at, f"stage {name!r}: two items both make stage {full!r}.")
        seen.add(full)
        out.append((full, do, {**context, **extra}, at.line))
    return out
