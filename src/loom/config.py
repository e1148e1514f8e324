"""Typed settings, declared once with their default and help (layer 0).

Settings come from, highest first: an explicit argument, the environment
(``LOOM_*``), the workspace's ``.loom/config.toml``, then the defaults here.
Nothing is read at import time: call :func:`load` when a value is needed.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loom.errors import UsageError, WorkspaceError


@dataclass(frozen=True)
class Setting:
    key: str  # dotted key in config.toml, e.g. "cache.type"
    default: Any
    help: str
    env: str | None = None  # environment variable that overrides it


SETTINGS: tuple[Setting, ...] = (
    Setting("core.remote", None, "Name of the default remote for push and pull."),
    Setting(
        "core.jobs",
        0,
        "Parallel hashing and transfer workers; 0 means a default from the CPU count.",
        "LOOM_JOBS",
    ),
    Setting(
        "cache.type",
        "reflink,copy",
        "How checkout links files from the cache, tried in order: "
        "reflink, copy, hardlink, symlink.",
    ),
    Setting(
        "cache.protected",
        True,
        "Make cached objects read-only so a hardlinked or symlinked file can't corrupt them.",
    ),
    Setting(
        "gc.grace_seconds",
        3600,
        "gc never deletes an object younger than this, so a concurrent add or push is safe.",
    ),
    Setting(
        "lock.timeout_seconds", 3.0, "How long a second loom process waits for the workspace lock."
    ),
    Setting(
        "tracking.uri",
        None,
        "Tracking store URI (sqlite:///path or postgresql://...). Default: the workspace's "
        ".loom/loom.db, or the user data directory outside a workspace.",
        "LOOM_TRACKING_URI",
    ),
    Setting(
        "tracking.flush_interval",
        0.5,
        "Seconds between background flushes of logged metrics.",
        "LOOM_FLUSH_INTERVAL",
    ),
    Setting(
        "tracking.artifact_root",
        None,
        "Object store root for run artifacts. Default: the workspace's .loom/cache, "
        "else objects/ next to the SQLite file, else the user data directory.",
        "LOOM_ARTIFACT_ROOT",
    ),
    Setting(
        "tracking.capture_env",
        True,
        "Record git state, command line, platform and installed packages at run start.",
        "LOOM_CAPTURE_ENV",
    ),
    Setting(
        "tracking.system_metrics_interval",
        5.0,
        "Seconds between samples of CPU, memory and GPU use when log_system_metrics is on.",
        "LOOM_SYSTEM_METRICS_INTERVAL",
    ),
    Setting("debug", False, "Print tracebacks for errors.", "LOOM_DEBUG"),
)

_BY_KEY = {s.key: s for s in SETTINGS}


def setting(key: str) -> Setting:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise UsageError(
            f"Unknown setting {key!r}.",
            hint="Known settings: " + ", ".join(sorted(_BY_KEY)),
        ) from None


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def get(key: str, file_values: dict[str, Any] | None = None) -> Any:
    """Resolve one setting: environment > config file values > default."""
    s = setting(key)
    if s.env and os.environ.get(s.env) not in (None, ""):
        try:
            return _coerce(os.environ[s.env], s.default)
        except ValueError:
            raise UsageError(
                f"Environment variable {s.env}={os.environ[s.env]!r} is not a valid value.",
                hint=f"{s.env}: {s.help}",
            ) from None
    if file_values is not None:
        value = lookup(file_values, key)
        if value is not None:
            return value
    return s.default


def lookup(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
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
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
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
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(dumps_toml(values), encoding="utf-8")
    os.replace(tmp, path)


def settings_markdown() -> str:
    """The settings reference, generated so it can't drift (docs/settings.md)."""
    rows = [
        "# Settings",
        "",
        "Generated from `loom.config.SETTINGS`; `tests/test_config.py` fails when it drifts.",
        "Set them in `.loom/config.toml` (dotted key = TOML table and key) or by environment.",
        "",
        "| key | default | environment | meaning |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        env = f"`{s.env}`" if s.env else ""
        rows.append(f"| `{s.key}` | `{s.default!r}` | {env} | {s.help} |")
    return "\n".join(rows) + "\n"
