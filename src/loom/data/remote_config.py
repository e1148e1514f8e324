"""Where remotes are defined: three places, highest first.

1. The environment: ``LOOM_REMOTE_<NAME>_URL`` (and ``LOOM_REMOTE_<NAME>_ENDPOINT_URL``)
   define remote ``<name>`` (lower-cased); ``LOOM_REMOTE=<name>`` picks the default.
2. ``.loom/config.local.toml``: not committed (``loom remote add --local``), so it
   stays put when an old commit is checked out.
3. ``.loom/config.toml``: committed, so every clone knows where data lives.

    [core]
    remote = "storage"
    [remote.storage]
    url = "s3://bucket/loom"
    endpoint_url = "http://127.0.0.1:9000"   # optional, for S3-compatible stores

A remote's keys merge across the places, the higher one winning key by key
(a local file may set only ``endpoint_url`` for a committed remote). Every
``[remote.NAME]`` table is checked when read, naming the file and key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from loom import config
from loom.errors import UsageError

KEYS = ("url", "endpoint_url")
_ENV = re.compile(r"^LOOM_REMOTE_(.+?)_(URL|ENDPOINT_URL)$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# source of a remote: "env", "local" (config.local.toml), "config" (config.toml),
# or "memo" (not configured now, remembered from earlier: see loom.data.ledger)
SOURCES = ("env", "local", "config", "memo")


@dataclass(frozen=True)
class RemoteConfig:
    name: str
    url: str
    endpoint_url: str | None = None
    default: bool = False
    source: str = "config"
    where: str = ""  # the file or environment variable the URL comes from

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def configured(layers: Sequence[config.Layer]) -> tuple[dict[str, RemoteConfig], str | None]:
    """The remotes of the environment and the config ``layers`` (local first), and the default.

    ``layers`` is ``Workspace.layers()``: two tiny files already parsed; the
    environment is scanned once for ``LOOM_REMOTE_*``.
    """
    tables: dict[str, dict[str, Any]] = {}
    origin: dict[str, tuple[str, str]] = {}  # name -> (source, where) of the key it holds
    places = [("local", *layers[0]), ("config", *layers[1])] if layers else []
    found = [(source, _tables(values, where)) for source, where, values in reversed(places)]
    found.append(("env", _env_tables()))
    for source, by_name in found:  # lowest first, so higher places override key by key
        for name, (table, where) in by_name.items():
            tables.setdefault(name, {}).update(table)
            if "url" in table or name not in origin:
                origin[name] = (source, where)
    default = config.get("core.remote", layers)
    out = {}
    for name, table in tables.items():
        source, where = origin[name]
        if "url" not in table:
            raise UsageError(
                f"Remote {name!r} in {where} has no url (remote.{name}.url).",
                hint=f"Add `url = ...` under [remote.{name}] (or set LOOM_REMOTE_"
                f"{name.upper()}_URL), or remove the endpoint.",
                key=f"remote.{name}.url",
                where=where,
            )
        out[name] = RemoteConfig(
            name, table["url"], table.get("endpoint_url"), name == default, source, where
        )
    return out, default


def _tables(values: Mapping[str, Any], where: str) -> dict[str, tuple[dict[str, Any], str]]:
    """The ``[remote.NAME]`` tables of one parsed file, each checked."""
    section = values.get("remote")
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise _bad("remote", section, where, "tables such as [remote.storage] with url = ...")
    out = {}
    for name, table in section.items():
        key = f"remote.{name}"
        if not isinstance(table, dict):
            raise _bad(key, table, where, 'a table with url = "..."')
        for k, v in table.items():
            if k not in KEYS:
                raise UsageError(
                    f"Unknown key {key}.{k} in {where}.",
                    hint="A remote takes url and endpoint_url.",
                    key=f"{key}.{k}",
                    where=where,
                )
            if not isinstance(v, str) or (k == "url" and not v.strip()):
                expected = "a non-empty string" if k == "url" else "a string"
                raise _bad(f"{key}.{k}", v, where, expected)
        out[name] = (dict(table), where)
    return out


def _env_tables() -> dict[str, tuple[dict[str, Any], str]]:
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for var, value in os.environ.items():
        m = _ENV.match(var)
        if m is None or not value:
            continue
        name = m[1].lower()
        if not NAME.match(name):
            raise UsageError(
                f"Environment variable {var} names remote {name!r}, which is not a valid name.",
                hint="Use LOOM_REMOTE_<NAME>_URL with letters, digits and '_' in NAME.",
                where=var,
            )
        table, _ = out.setdefault(name, ({}, var))
        table[m[2].lower()] = value
        if m[2] == "URL":
            out[name] = (table, var)
    return out


def _bad(key: str, value: Any, where: str, expected: str) -> UsageError:
    return UsageError(
        f"Setting {key} = {value!r} in {where} is not valid: expected {expected}.",
        hint='A remote is [remote.NAME] with url = "s3://bucket/path" (or a folder) '
        'and optionally endpoint_url = "http://host:port".',
        key=key,
        where=where,
    )
