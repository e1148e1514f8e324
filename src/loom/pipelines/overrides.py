"""``-S [FILE:]KEY=VALUE``: set a param in its params file, as ``dvc exp run -S`` does.

The file defaults to ``params.yaml``; the value is read as a YAML scalar (``0.01``,
``true``, ``adam``, ``[1, 2]``; ``1e-3`` is a number, as in YAML 1.2). A key that
is not in the file is refused before any file changes (``check``). A YAML file
is edited in place — only the value's characters change, so comments, order and
quoting elsewhere stay as they were; a JSON or TOML file is written anew.

    >>> [o] = parse(["train.lr=0.1"])
    >>> (o.file, o.key, o.value)
    ('params.yaml', 'train.lr', 0.1)
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from loom import atomic, config, paths
from loom.errors import UsageError, from_oserror
from loom.pipelines.params import flat_keys
from loom.pipelines.spec import DEFAULT_PARAMS

_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")  # YAML 1.1 misses 1e-3
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Override:
    file: str  # relative to the workspace root
    key: str  # dotted
    value: Any
    text: str  # the value as written

    def __str__(self) -> str:
        return f"{self.file}:{self.key}={self.text}"


def parse(items: Iterable[str], default_file: str = DEFAULT_PARAMS) -> list[Override]:
    """``-S`` values as overrides; a later one for the same key wins."""
    found: dict[tuple[str, str], Override] = {}
    for item in items:
        target, eq, text = item.partition("=")
        file, colon, key = target.rpartition(":")
        if not colon:
            file = default_file
        if not eq or not key.strip() or paths.problem(file) is not None:
            raise UsageError(
                f"-S {item!r} is not FILE:KEY=VALUE or KEY=VALUE.",
                hint="e.g. -S train.lr=0.01 or -S params.yaml:train.epochs=20.",
                value=item,
            )
        key = key.strip()
        found[(file, key)] = Override(file, key, scalar(text), text)
    return list(found.values())


def scalar(text: str) -> Any:
    """``text`` read as YAML (a number, bool, null, string or flow list/mapping)."""
    if _NUMBER.match(text.strip()):
        number = float(text)
        return int(text) if number.is_integer() and re.fullmatch(r"[-+]?\d+", text) else number
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return text  # not YAML: the words themselves


def check(root: Path, overrides: Sequence[Override]) -> None:
    """Refuse a file that does not exist or a key that is not in it, changing nothing."""
    for file, items in _by_file(overrides).items():
        doc = _values(root, file)
        for o in items:
            if _find(doc, o.key) is None:
                close = difflib.get_close_matches(o.key, flat_keys(doc), n=3)
                raise UsageError(
                    f"The param {o.key!r} is not in {file}; nothing was changed.",
                    hint=(f"Did you mean {', '.join(close)}? " if close else "")
                    + f"-S sets params that exist: add {o.key} to {file} first.",
                    key=o.key,
                    path=file,
                )


def apply(root: Path, overrides: Sequence[Override]) -> None:
    """Write each override into its file (``check`` them first)."""
    check(root, overrides)
    for file, items in _by_file(overrides).items():
        path = root / file
        try:
            text = path.read_text(encoding="utf-8")
            if file.lower().endswith((".json", ".toml")):
                text = _rewrite(file, text, items)
            else:
                for o in items:
                    text = _yaml_set(text, file, o)
            atomic.write_text(path, text)
        except OSError as exc:
            raise from_oserror(exc, f"set params in {file}") from None


def _by_file(overrides: Sequence[Override]) -> dict[str, list[Override]]:
    out: dict[str, list[Override]] = {}
    for o in overrides:
        out.setdefault(o.file, []).append(o)
    return out


def _values(root: Path, file: str) -> dict[str, Any]:
    from loom.pipelines.params import ParamFiles
    from loom.pipelines.spec import disk_reader

    return ParamFiles(disk_reader(root)).doc(file)


def _find(doc: Mapping[str, Any], key: str) -> tuple[Any, ...] | None:
    """The path of mapping keys that ``key`` names in ``doc`` (a literal dotted key
    first, as ``params.find``), or None."""
    if key in doc:
        return (key,)
    node: Any = doc
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return tuple(key.split("."))


# -- YAML: replace the value's characters only ------------------------------------------


def _yaml_set(text: str, file: str, o: Override) -> str:
    node: Any = yaml.compose(text, Loader=_Loader)
    for part in _find(yaml.load(text, Loader=_Loader) or {}, o.key) or ():
        node = next(v for k, v in node.value if k.value == str(part))
    start, end = node.start_mark.index, node.end_mark.index
    if not isinstance(node, yaml.ScalarNode):  # a block collection ends after its newline
        end = start + len(text[start:end].rstrip())
    return text[:start] + _yaml_text(o.value) + text[end:]


def _yaml_text(value: Any) -> str:
    dumped = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, allow_unicode=True)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


# -- JSON and TOML: parse, set, write ------------------------------------------------------


def _rewrite(file: str, text: str, items: Sequence[Override]) -> str:
    toml = file.lower().endswith(".toml")
    doc = tomllib.loads(text) if toml else json.loads(text)
    for o in items:
        where = _find(doc, o.key) or ()
        node = doc
        for part in where[:-1]:
            node = node[part]
        node[where[-1]] = o.value
    if toml:
        return config.dumps_toml(doc)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
