"""Params and metrics files: parsed by their suffix and flattened to dotted keys, as DVC does.

YAML (``.yaml``, ``.yml`` and any other suffix), JSON, TOML and Python (the
module's literal assignments, a class body as a section). Nested mappings
become dotted keys; lists stay values (``layers: [64, 32]`` is one param).

    >>> flatten(parse(b"train: {lr: 0.1, layers: [64, 32]}", "params.yaml", "in the workspace"))
    {'train.lr': 0.1, 'train.layers': [64, 32]}
"""

from __future__ import annotations

import ast
import json
import tomllib
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from loom.errors import ValidationError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


def parse(data: bytes, path: str, where: str) -> dict[str, Any]:
    """The mapping in the file ``path`` (its bytes ``data``, found ``where``); a file that
    does not parse, or holds no mapping, is a ValidationError naming it."""
    kind = _kind(path)
    try:
        text = data.decode("utf-8-sig")
        value = _PARSERS[kind](text)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError, SyntaxError) as exc:
        raise ValidationError(
            f"{path} {where} is not valid {kind}: {_reason(exc)}",
            hint=f"Fix {path} (or commit a fixed one); it must be a {kind} mapping of keys to "
            "values.",
            path=path,
        ) from None
    if value is None:
        return {}  # an empty file: no keys
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{path} {where} holds a {type(value).__name__}, not a mapping of keys to values.",
            hint=f"Write {path} as `key: value` pairs (a {kind} object at the top).",
            path=path,
        )
    return dict(value)


def flatten(values: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists and scalars are leaves."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _kind(path: str) -> str:
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return {"json": "JSON", "toml": "TOML", "py": "Python"}.get(suffix, "YAML")


def load_yaml(text: str | bytes) -> Any:
    """YAML with the safe loader (libyaml's when present)."""
    return yaml.load(text, Loader=_LOADER)


def _python(text: str) -> dict[str, Any]:
    """Literal assignments at the top of a module and in its classes, as DVC reads them;
    anything computed is not a param and is skipped."""
    return _assignments(ast.parse(text).body)


def _assignments(body: list[ast.stmt]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for node in body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = _assignments(node.body)
            continue
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        try:
            literal = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                out[target.id] = literal
    return out


_PARSERS: dict[str, Callable[[str], Any]] = {
    "YAML": load_yaml,
    "JSON": json.loads,
    "TOML": tomllib.loads,
    "Python": _python,
}


def _reason(exc: Exception) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{exc.problem} (line {mark.line + 1}, column {mark.column + 1})."
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (line {exc.lineno}, column {exc.colno})."
    if isinstance(exc, SyntaxError):
        return f"{exc.msg} (line {exc.lineno})."
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text."
    return f"{exc}."
