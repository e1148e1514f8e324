"""Params and metrics files at a revision: a mapping, flattened to dotted keys, as DVC does.

YAML, JSON and TOML are read as ``loom repro`` reads them (``yamlfile.read_values``:
a key written twice is refused); Python params files (``.py``) as DVC reads them:
the module's literal assignments, a class body as a section. An error names the
file, its line and the revision. Nested mappings become dotted keys
(:func:`loom.pipelines.params.flatten`); lists stay values.

    >>> flatten(parse(b"train: {lr: 0.1, layers: [64, 32]}", "params.yaml", "in the workspace"))
    {'train.lr': 0.1, 'train.layers': [64, 32]}
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from loom.errors import ValidationError
from loom.pipelines.errors import PipelineError
from loom.pipelines.params import flatten
from loom.pipelines.revfiles import opening
from loom.pipelines.template import plain
from loom.pipelines.yamlfile import read_values

__all__ = ["flatten", "parse"]


def parse(data: bytes, path: str, where: str) -> dict[str, Any]:
    """The mapping in the file ``path`` (its bytes ``data``, found ``where``: ``at HEAD``);
    a file that does not parse, or holds no mapping, is a ValidationError naming it."""
    hint = f"Fix {path} (or commit a fixed one): it must hold a mapping of keys to values."
    try:
        value = _python(data, path) if path.lower().endswith(".py") else read_values(data, path)
    except PipelineError as exc:
        raise ValidationError(f"{opening(where)}, {exc.message}", hint=hint, path=path) from None
    if value is None:
        return {}  # an empty file: no keys
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{opening(where)}, {path} holds a {_kind(value)}, not a mapping of keys to values.",
            hint=hint,
            path=path,
        )
    return plain(value)


def _kind(value: Any) -> str:
    return "list" if isinstance(value, list) else type(value).__name__


def _python(data: bytes, path: str) -> dict[str, Any]:
    """Literal assignments at the top of a module and in its classes, as DVC reads them;
    anything computed is not a param and is left out."""
    try:
        tree = ast.parse(data, path)
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL byte
        line = getattr(exc, "lineno", None) or ""
        raise PipelineError(
            None, f"{path}{f':{line}' if line else ''}: not valid Python."
        ) from None
    return _assignments(tree.body)


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
