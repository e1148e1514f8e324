"""Typed settings, declared once with their type, default and help (layer 0).

Settings come from, highest first: an explicit argument, the environment
(``LOOM_*``), the workspace's uncommitted ``.loom/config.local.toml``, its
committed ``.loom/config.toml``, then the defaults here. Every value is
checked when it is read, and a wrong one is an error naming the file (or
variable) and the key. Nothing is read at import time.

    >>> get("gc.grace_seconds", [(".loom/config.toml", {"gc": {"grace_seconds": 60}})])
    60.0
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loom import atomic
from loom.errors import UsageError, WorkspaceError

LINK_MODES = ("reflink", "copy", "hardlink", "symlink")


@dataclass(frozen=True)
class Setting:
    key: str  # dotted key in config.toml, e.g. "cache.type"
    default: Any
    help: str
    env: str | None = None  # environment variable that overrides it
    kind: str = "str"  # bool | int | float | str | modes (a comma list of LINK_MODES)
    minimum: float | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("core.remote", None, "Name of the default remote for push and pull.", "LOOM_REMOTE"),
    Setting(
        "core.jobs",
        0,
        "Parallel hashing and transfer workers; 0 means a default from the CPU count.",
        "LOOM_JOBS",
        kind="int",
        minimum=0,
    ),
    Setting(
        "cache.type",
        "reflink,copy",
        "How checkout links files from the cache, tried in order: "
        "reflink, copy, hardlink, symlink.",
        kind="modes",
    ),
    Setting(
        "cache.dir",
        None,
        "Where the object cache lives (default .loom/cache); a relative path is relative to "
        "the workspace. Several workspaces (e.g. experiments' git worktrees) can share one; "
        "`loom gc` runs only in the workspace that owns it (where this is unset).",
        "LOOM_CACHE_DIR",
    ),
    Setting(
        "cache.protected",
        True,
        "Make cached objects read-only so a hardlinked or symlinked file can't corrupt them.",
        kind="bool",
    ),
    Setting(
        "gc.grace_seconds",
        3600.0,
        "gc never deletes an object younger than this, so a concurrent add or push is safe.",
        kind="float",
        minimum=0,
    ),
    Setting(
        "lock.timeout_seconds",
        3.0,
        "How long a second loom process waits for the workspace lock.",
        kind="float",
        minimum=0,
    ),
    Setting(
        "tracking.uri",
        None,
        "Tracking store URI (sqlite:///path, postgresql://... or http://host:5000, a loom "
        "server). Default: the workspace's "
        ".loom/loom.db, or the user data directory outside a workspace.",
        "LOOM_TRACKING_URI",
    ),
    Setting(
        "tracking.flush_interval",
        0.5,
        "Seconds between background flushes of logged metrics (at most 1).",
        "LOOM_FLUSH_INTERVAL",
        kind="float",
        minimum=0.001,
    ),
    Setting(
        "tracking.artifact_root",
        None,
        "Object store root for run artifacts. Default: the workspace's cache (cache.dir), "
        "else objects/ next to the SQLite file, else the user data directory.",
        "LOOM_ARTIFACT_ROOT",
    ),
    Setting(
        "tracking.capture_env",
        True,
        "Record git state, command line, platform and installed packages at run start.",
        "LOOM_CAPTURE_ENV",
        kind="bool",
    ),
    Setting(
        "tracking.system_metrics_interval",
        5.0,
        "Seconds between samples of CPU, memory and GPU use when log_system_metrics is on.",
        "LOOM_SYSTEM_METRICS_INTERVAL",
        kind="float",
        minimum=0.01,
    ),
    Setting("debug", False, "Print tracebacks for errors.", "LOOM_DEBUG", kind="bool"),
)

_BY_KEY = {s.key: s for s in SETTINGS}
_SECTIONS = {s.key.split(".")[0] for s in SETTINGS if "." in s.key}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# Where a value came from ("environment variable LOOM_JOBS", ".loom/config.toml") and
# the parsed file: a workspace passes its files highest first.
Layer = tuple[str, Mapping[str, Any]]


def setting(key: str) -> Setting:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise UsageError(
            f"Unknown setting {key!r}.",
            hint="Known settings: " + ", ".join(sorted(_BY_KEY)),
        ) from None


def _expected(s: Setting) -> str:
    if s.kind == "modes":
        return "a comma-separated list of " + ", ".join(LINK_MODES)
    words = {"bool": "true or false", "int": "a whole number", "float": "a number"}
    text = words.get(s.kind, "a string")
    return text + (f" of at least {s.minimum:g}" if s.minimum is not None else "")


def _bad(s: Setting, value: Any, where: str) -> UsageError:
    return UsageError(
        f"Setting {s.key} = {value!r} in {where} is not valid: expected {_expected(s)}.",
        hint=f"{s.key}: {s.help} Default: {s.default!r}.",
        key=s.key,
        where=where,
    )


def check(s: Setting, value: Any, where: str, *, from_env: bool = False) -> Any:
    """``value`` as the setting's type, or a UsageError naming ``where`` and the key."""
    if from_env and s.kind in ("bool", "int", "float"):
        value = _from_text(s, str(value), where)
    if s.kind == "bool":
        if not isinstance(value, bool):
            raise _bad(s, value, where)
        return value
    if s.kind in ("int", "float"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or (s.kind == "int" and not isinstance(value, int)):
            raise _bad(s, value, where)
        if value != value or value in (float("inf"), float("-inf")):  # NaN, inf
            raise _bad(s, value, where)
        if s.minimum is not None and value < s.minimum:
            raise _bad(s, value, where)
        return int(value) if s.kind == "int" else float(value)
    if not isinstance(value, str) or not value.strip():
        raise _bad(s, value, where)
    if s.kind == "modes":
        modes = [m.strip() for m in value.split(",")]
        if not modes or any(m not in LINK_MODES for m in modes):
            raise _bad(s, value, where)
        return ",".join(modes)
    return value


def _from_text(s: Setting, raw: str, where: str) -> Any:
    text = raw.strip().lower()
    if s.kind == "bool":
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise _bad(s, raw, where)
    try:
        return int(text) if s.kind == "int" else float(text)
    except ValueError:
        raise _bad(s, raw, where) from None


def get(key: str, layers: Sequence[Layer] | Mapping[str, Any] | None = None) -> Any:
    """Resolve one setting: environment > the layers (highest first) > default.

    A plain mapping is taken as one layer read from "the configuration".
    """
    s = setting(key)
    if s.env and os.environ.get(s.env) not in (None, ""):
        return check(s, os.environ[s.env], f"environment variable {s.env}", from_env=True)
    if isinstance(layers, Mapping):
        layers = [("the configuration", layers)]
    for where, values in layers or ():
        value = lookup(values, key)
        if value is not None:
            return check(s, value, where)
    return s.default


def validate(values: Mapping[str, Any], where: str) -> None:
    """Check every known setting in a parsed file; refuse unknown keys in Loom's sections.

    ``remote.*`` tables are checked where remotes are read (``loom.data.remotes``).
    """
    for section, body in values.items():
        if section == "remote":
            continue
        if section in _BY_KEY:  # a top-level setting such as ``debug``
            check(_BY_KEY[section], body, where)
            continue
        if section not in _SECTIONS or not isinstance(body, dict):
            raise _unknown(section, where)
        for name, value in body.items():
            key = f"{section}.{name}"
            if key not in _BY_KEY:
                raise _unknown(key, where)
            check(_BY_KEY[key], value, where)


def _unknown(key: str, where: str) -> UsageError:
    return UsageError(
        f"Unknown setting {key!r} in {where}.",
        hint="Known settings: " + ", ".join(sorted(_BY_KEY)) + " and [remote.NAME] tables.",
        key=key,
        where=where,
    )


def lookup(values: Mapping[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(
            f"{path} is not valid TOML: {exc}",
            hint=f"Fix or remove {path}; `loom init` writes a fresh one.",
            path=str(path),
        ) from None


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE_KEY.match(k) else '"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        # a JSON string is a valid TOML basic string: quotes, backslashes and control
        # characters escaped the same way
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps_toml(values: dict[str, Any]) -> str:
    """Write nested dicts of scalars as TOML (enough for Loom's own config files)."""
    lines: list[str] = []

    def table(prefix: list[str], node: dict[str, Any]) -> None:
        scalars = {k: v for k, v in node.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in node.items() if isinstance(v, dict)}
        if prefix and scalars:
            lines.append("[" + ".".join(_key(p) for p in prefix) + "]")
        for k, v in scalars.items():
            if v is not None:
                lines.append(f"{_key(k)} = {_value(v)}")
        if prefix and scalars:
            lines.append("")
        for k, v in tables.items():
            table([*prefix, k], v)

    table([], values)
    return "\n".join(lines).rstrip() + "\n"


def write_toml(path: Path, values: dict[str, Any]) -> None:
    """Atomically replace ``path`` with ``values`` as TOML."""
    atomic.write_text(path, dumps_toml(values))


def settings_markdown() -> str:
    """The settings reference, generated so it can't drift (docs/settings.md)."""
    rows = [
        "# Settings",
        "",
        "Generated from `loom.config.SETTINGS`; `tests/test_config.py` fails when it drifts.",
        "Set them in `.loom/config.toml` (committed), `.loom/config.local.toml` (not committed,",
        "wins over config.toml) or by environment (wins over both); dotted key = TOML table and",
        "key. Every value is checked when read; a wrong one is an error naming the file and key.",
        "",
        "| key | default | environment | type | meaning |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        env = f"`{s.env}`" if s.env else ""
        rows.append(f"| `{s.key}` | `{s.default!r}` | {env} | {_expected(s)} | {s.help} |")
    return "\n".join(rows) + "\n"
