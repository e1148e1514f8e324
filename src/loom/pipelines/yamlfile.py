"""YAML that remembers lines: mappings and lists know where each key and item was written.

``loom.yaml`` errors must name the file and line, so the loader builds
:class:`YMap` and :class:`YList` (a dict and a list with line numbers) instead
of plain containers, and refuses a key written twice (plain YAML keeps the last
one silently: two stages of one name would be one). Params and vars files
(YAML, JSON or TOML) are read by :func:`read_values`.

    >>> doc = loads("stages:\\n  train:\\n    cmd: python t.py\\n", "loom.yaml")
    >>> doc["stages"].lines["train"]
    2
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from typing import Any

import yaml

from loom.pipelines.errors import PipelineError, Where

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YMap(dict):
    """A mapping with ``line`` (where it starts) and ``lines`` (key -> line of the key)."""

    line: int = 0
    lines: dict[Any, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = {}

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class YList(list):
    """A list with ``line`` (where it starts) and ``lines`` (the line of each item)."""

    line: int = 0
    lines: list[int]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class _Loader(_Base):
    file = "<yaml>"


def _mapping(loader: _Loader, node: yaml.MappingNode) -> YMap:
    loader.flatten_mapping(node)
    out = YMap()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, list | dict):
            raise PipelineError(Where(loader.file, line), "a key must be a plain value.")
        if key in out:
            raise PipelineError(
                Where(loader.file, line),
                f"{key!r} is written twice (first at line {out.lines[key]}).",
                hint="Give each key once; YAML would silently keep only the last one.",
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> YList:
    out = YList()
    out.line = node.start_mark.line + 1
    for child in node.value:
        out.append(loader.construct_object(child, deep=True))
        out.lines.append(child.start_mark.line + 1)
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)


def loads(text: str | bytes, file: str, *, templated: bool = False) -> Any:
    """Parse YAML ``text`` from ``file`` (the name errors show) into YMap/YList/scalars.

    ``templated``: ``${…}`` may stand anywhere a word may, even inside a flow list
    (``metrics: [eval/${item}.json]``, where YAML itself would refuse the braces).
    """
    show: Callable[[Any], Any] = lambda value: value  # noqa: E731
    if templated:
        if isinstance(text, bytes):
            text = _decode(text, file)
        text, show = _hide_refs(text)
    loader = _Loader(text)
    loader.file = file
    try:
        doc = loader.get_single_data()
        return show(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise PipelineError(
            Where(file, line),
            f"not valid YAML: {exc.problem or exc.context}.",
            hint="Fix the YAML syntax at that line (indentation, a missing ':' or quote).",
        ) from None
    except yaml.YAMLError as exc:
        raise PipelineError(Where(file, 0), f"not valid YAML: {exc}.") from None
    finally:
        loader.dispose()


def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PipelineError(Where(file, line), "not valid UTF-8.") from None


_REF = re.compile(r"(?<!\\)\$\{[^{}\n]*\}")


def _hide_refs(text: str) -> tuple[str, Callable[[Any], Any]]:
    """Each ``${…}`` replaced by a token YAML reads as part of a plain word, and the
    function that puts them back into what was parsed."""
    prefix = "_loomref"
    while prefix in text:
        prefix += "_"
    refs: list[str] = []

    def token(m: re.Match[str]) -> str:
        refs.append(m[0])
        return f"{prefix}{len(refs) - 1}_"

    hidden = _REF.sub(token, text)
    pattern = re.compile(re.escape(prefix) + r"(\d+)_")

    def show(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda m: refs[int(m[1])], value) if prefix in value else value
        if isinstance(value, YMap):
            out = YMap()
            out.line = value.line
            for k, v in value.items():
                key = show(k)
                out[key] = show(v)
                out.lines[key] = value.lines.get(k, value.line)
            return out
        if isinstance(value, YList):
            items = YList(show(v) for v in value)
            items.line, items.lines = value.line, list(value.lines)
            return items
        return value

    return hidden, (show if refs else lambda value: value)


def read_values(data: bytes, file: str) -> Any:
    """A params or vars file by its extension: ``.json``, ``.toml``, else YAML."""
    lower = file.lower()
    try:
        if lower.endswith(".json"):
            return json.loads(data)
        if lower.endswith(".toml"):
            return tomllib.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and TOMLDecodeError
        kind = "JSON" if lower.endswith(".json") else "TOML"
        line = getattr(exc, "lineno", 0) or 0
        raise PipelineError(
            Where(file, line),
            f"not valid {kind}: {exc}.",
            hint=f"Fix {file}; `loom repro` reads it for its values.",
        ) from None
    return loads(data, file)
