"""The values of a stage's params: what ``loom.lock`` records and a change of which reruns it.

A param is a dotted key of a params file (``train.lr``), a whole section
(``train``: its mapping is the value) or a whole file (``{other.yaml: }``:
every top-level key). Each file is read once per command (:class:`ParamFiles`).

    >>> files = ParamFiles(disk_reader(root))                       # doctest: +SKIP
    >>> files.values(stage)                                         # doctest: +SKIP
    {'params.yaml': {'train.lr': 0.01}}
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from loom.pipelines.errors import PipelineError
from loom.pipelines.spec import Param, Stage
from loom.pipelines.template import Reader, plain
from loom.pipelines.yamlfile import read_values

MISSING = object()  # what find() returns for a key that is not there


class ParamFiles:
    """Params files read once each, through ``read`` (root-relative path -> bytes)."""

    def __init__(self, read: Reader) -> None:
        self._read = read
        self._docs: dict[str, dict[str, Any]] = {}

    def doc(self, file: str, param: Param | None = None) -> dict[str, Any]:
        found = self._docs.get(file)
        if found is not None:
            return found
        data = self._read(file)
        if data is None:
            raise PipelineError(
                param.where if param else None,
                f"the params file {file} does not exist.",
                hint=f"Create {file} with the values the stage reads, or fix the name.",
                path=file,
            )
        values = read_values(data, file)
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise PipelineError(
                param.where if param else None, f"{file} must hold a mapping.", path=file
            )
        self._docs[file] = plain(values)
        return self._docs[file]

    def value(self, param: Param) -> Any:
        """The value of one param; PipelineError at its line when the key is not there."""
        doc = self.doc(param.file, param)
        if param.key is None:
            return doc
        found = find(doc, param.key)
        if found is MISSING:
            close = difflib.get_close_matches(param.key, list(flat_keys(doc)), n=3)
            raise PipelineError(
                param.where,
                f"the param {param.key!r} is not in {param.file}.",
                hint=(f"Did you mean {', '.join(close)}? " if close else "")
                + f"Add it to {param.file}, or remove it from the stage's params.",
                key=param.key,
                path=param.file,
            )
        return found

    def values(self, stage: Stage) -> dict[str, dict[str, Any]]:
        """``{file: {key as declared: value}}`` for ``stage`` (a whole file: its keys)."""
        out: dict[str, dict[str, Any]] = {}
        for param in stage.params:
            got = self.value(param)
            into = out.setdefault(param.file, {})
            if param.key is None:
                into.update(got)
            else:
                into[param.key] = got
        return out


def find(doc: Mapping[str, Any], key: str) -> Any:
    """``doc[key]``, or the nested value of a dotted key; ``MISSING`` when absent."""
    if key in doc:
        return doc[key]
    node: Any = doc
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node


def flat_keys(doc: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k, v in doc.items():
        out.append(f"{prefix}{k}")
        if isinstance(v, Mapping):
            out += flat_keys(v, f"{prefix}{k}.")
    return out


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys: ``{"train": {"lr": 1}}`` -> ``{"train.lr": 1}``."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
