"""Remote settings in ``.loom/config.toml`` (committed, so a clone knows where data lives).

    [core]
    remote = "storage"
    [remote.storage]
    url = "s3://bucket/loom"
    endpoint_url = "http://127.0.0.1:9000"   # optional, for S3-compatible stores

Credentials never go here: S3 reads the usual AWS variables and files.

    >>> add_remote(ws, "storage", "s3://bucket/loom", default=True)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loom.data.workspace import Workspace
from loom.errors import (
    AlreadyExistsError,
    DependencyError,
    NoRemoteError,
    NotFoundError,
    ValidationError,
)
from loom.objects.remote import Remote, open_remote

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ADD_HINT = "loom remote add -d storage s3://bucket/path"


@dataclass(frozen=True)
class RemoteConfig:
    name: str
    url: str
    endpoint_url: str | None = None
    default: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_remotes(ws: Workspace) -> list[RemoteConfig]:
    values = ws.values
    default = values.get("core", {}).get("remote")
    out = []
    for name, conf in sorted(values.get("remote", {}).items()):
        if isinstance(conf, dict) and isinstance(conf.get("url"), str):
            out.append(RemoteConfig(name, conf["url"], conf.get("endpoint_url"), name == default))
    return out


def add_remote(
    ws: Workspace,
    name: str,
    url: str,
    *,
    default: bool = False,
    endpoint_url: str | None = None,
    force: bool = False,
) -> RemoteConfig:
    """Save a remote; the URL's scheme is checked now, the connection at first use."""
    if not _NAME.match(name):
        raise ValidationError(
            f"Remote name {name!r} is not valid: use letters, digits, '_', '.', '-'.",
            hint=f"e.g. `{_ADD_HINT}`",
        )
    try:
        open_remote(url, endpoint_url=endpoint_url)  # unknown scheme -> RemoteError
    except DependencyError:
        pass  # gs:// or azure:// without its extra: saved; push says what to install
    values = dict(ws.values)
    remotes = dict(values.get("remote", {}))
    if name in remotes and not force:
        raise AlreadyExistsError(
            f"Remote {name!r} already exists ({remotes[name].get('url')}).",
            hint=f"Use `loom remote add --force {name} {url}` to replace it.",
            name=name,
        )
    remotes[name] = {"url": url, **({"endpoint_url": endpoint_url} if endpoint_url else {})}
    values["remote"] = remotes
    if default or not values.get("core", {}).get("remote"):
        values["core"] = {**values.get("core", {}), "remote": name}
    ws.save_config(values)
    return next(r for r in list_remotes(ws) if r.name == name)


def remove_remote(ws: Workspace, name: str) -> None:
    values = dict(ws.values)
    remotes = dict(values.get("remote", {}))
    if name not in remotes:
        raise _unknown(ws, name)
    del remotes[name]
    values["remote"] = remotes
    if values.get("core", {}).get("remote") == name:
        values["core"] = {k: v for k, v in values["core"].items() if k != "remote"}
    ws.save_config(values)


def set_default(ws: Workspace, name: str) -> None:
    if name not in {r.name for r in list_remotes(ws)}:
        raise _unknown(ws, name)
    values = dict(ws.values)
    values["core"] = {**values.get("core", {}), "remote": name}
    ws.save_config(values)


def resolve(ws: Workspace, name: str | None = None) -> RemoteConfig:
    """The named remote, or the default one; NoRemoteError when there is none."""
    remotes = list_remotes(ws)
    if name is None:
        for r in remotes:
            if r.default:
                return r
        if not remotes:
            raise NoRemoteError("No remote is configured.", hint=_ADD_HINT)
        raise NoRemoteError(
            "No default remote is set.",
            hint=f"Name one with `-r {remotes[0].name}` or run "
            f"`loom remote default {remotes[0].name}`.",
        )
    for r in remotes:
        if r.name == name:
            return r
    raise _unknown(ws, name)


def open_configured(ws: Workspace, name: str | None = None) -> Remote:
    """Open the remote; a relative local path is relative to the workspace root."""
    conf = resolve(ws, name)
    url = conf.url
    if "://" not in url and not Path(url).is_absolute():
        url = str(ws.root / url)
    return open_remote(url, endpoint_url=conf.endpoint_url)


def _unknown(ws: Workspace, name: str) -> NotFoundError:
    known = ", ".join(r.name for r in list_remotes(ws)) or "none"
    return NotFoundError(
        f"There is no remote named {name!r} (configured: {known}).",
        hint="Run `loom remote list`, or add it with `loom remote add NAME URL`.",
        name=name,
    )
