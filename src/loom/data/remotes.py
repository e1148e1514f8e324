"""Remotes: add, list, remove, pick the default, and resolve the one a command uses.

Remotes come from the environment, ``.loom/config.local.toml`` and the committed
``.loom/config.toml`` (see ``loom.data.remote_config``). Credentials never go
there: S3 reads the usual AWS variables and files.

A commit made before its remote was added has a config without it. So every
remote resolved from config is remembered (``loom.data.ledger``), and when the
current config lacks the remote asked for, or names none, the remembered one is
used, with a warning that says how to make it last.

    >>> add_remote(ws, "storage", "s3://bucket/loom", default=True)
    >>> add_remote(ws, "mine", "/mnt/backup", local=True)   # not committed
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from loom import atomic, config
from loom.data.ledger import Ledger, SeenRemote
from loom.data.remote_config import NAME, RemoteConfig, configured
from loom.data.workspace import LOCAL_CONFIG, Workspace
from loom.errors import (
    AlreadyExistsError,
    DependencyError,
    NoRemoteError,
    NotFoundError,
    UsageError,
    ValidationError,
    warn,
)

if TYPE_CHECKING:
    from loom.objects.remote import Remote

__all__ = [
    "RemoteConfig",
    "add_remote",
    "known_default",
    "list_remotes",
    "location",
    "open_config",
    "open_configured",
    "remove_remote",
    "resolve",
    "set_default",
]
_ADD_HINT = "loom remote add -d storage s3://bucket/path"


def list_remotes(ws: Workspace) -> list[RemoteConfig]:
    """Every configured remote (environment, local file, committed file), by name."""
    remotes, _ = configured(ws.layers())
    return [remotes[n] for n in sorted(remotes)]


def add_remote(
    ws: Workspace,
    name: str,
    url: str,
    *,
    default: bool = False,
    endpoint_url: str | None = None,
    force: bool = False,
    local: bool = False,
) -> RemoteConfig:
    """Save a remote in config.toml (or config.local.toml with ``local``).

    The URL's scheme is checked now, the connection at first use. The first
    remote becomes the default.
    """
    if not NAME.match(name):
        raise ValidationError(
            f"Remote name {name!r} is not valid: use letters, digits, '_', '.', '-'.",
            hint=f"e.g. `{_ADD_HINT}`",
        )
    from loom.objects.remote import open_remote  # not on status's path: ~3 ms of imports

    try:
        open_remote(url, endpoint_url=endpoint_url)  # unknown scheme -> RemoteError
    except DependencyError:
        pass  # gs:// or azure:// without its extra: saved; push says what to install
    values = ws.file_values(local=local)
    remotes = dict(values.get("remote", {}))
    if name in remotes and not force:
        flags = " --local" if local else ""
        raise AlreadyExistsError(
            f"Remote {name!r} already exists ({remotes[name].get('url')}).",
            hint=f"Use `loom remote add{flags} --force {name} {url}` to replace it.",
            name=name,
        )
    remotes[name] = {"url": url, **({"endpoint_url": endpoint_url} if endpoint_url else {})}
    values["remote"] = remotes
    if default or not config.lookup(ws.values, "core.remote"):
        values["core"] = {**values.get("core", {}), "remote": name}
    _save(ws, values, local)
    found = next(r for r in list_remotes(ws) if r.name == name)
    overridden = found.source != ("local" if local else "config")
    if overridden and (found.url, found.endpoint_url) != (url, endpoint_url):
        warn(
            f"{found.where} also defines remote {name!r} and wins: it stays {found.url}.",
            hint="The environment wins over config.local.toml, which wins over config.toml.",
        )
    return found


def remove_remote(ws: Workspace, name: str, *, local: bool = False) -> None:
    """Remove a remote from config.toml (or config.local.toml); its data stays where it is."""
    values = ws.file_values(local=local)
    remotes = dict(values.get("remote", {}))
    if name not in remotes:
        raise _not_in_file(ws, name, local)
    del remotes[name]
    values["remote"] = remotes
    if values.get("core", {}).get("remote") == name:
        values["core"] = {k: v for k, v in values["core"].items() if k != "remote"}
    _save(ws, values, local)


def set_default(ws: Workspace, name: str, *, local: bool = False) -> None:
    if name not in {r.name for r in list_remotes(ws)}:
        raise _unknown(ws, name)
    values = ws.file_values(local=local)
    values["core"] = {**values.get("core", {}), "remote": name}
    _save(ws, values, local)


def _save(ws: Workspace, values: dict, local: bool) -> None:
    ws.save_config(values, local=local)
    if local:
        _ignore_local_config(ws)
    remotes, default = configured(ws.layers())
    _remember(ws, remotes, default)


def _ignore_local_config(ws: Workspace) -> None:
    """Keep config.local.toml out of git, also in workspaces made before it existed."""
    ignore = ws.loom_dir / ".gitignore"
    line = f"/{LOCAL_CONFIG}"
    text = ignore.read_text(encoding="utf-8") if ignore.exists() else ""
    if line not in text.splitlines():
        sep = "" if not text or text.endswith("\n") else "\n"
        atomic.write_text(ignore, f"{text}{sep}{line}\n")


def resolve(ws: Workspace, name: str | None = None) -> RemoteConfig:
    """The named remote, or the default one; NoRemoteError when there is none.

    When the current config lacks it (an old commit is checked out), the remote
    last seen under that name, or the last default, is used with a warning.
    """
    remotes, default = configured(ws.layers())
    _remember(ws, remotes, default)
    wanted = name or default
    if wanted in remotes:
        return remotes[wanted]
    with Ledger.open(ws) as ledger:
        found = _remembered(remotes, wanted, ledger)
    if found is None:
        raise _no_remote(ws, remotes, wanted, named=name is not None)
    conf, why = found
    warn(
        f"{why}; using {conf.name} = {conf.url}, the one last used in this workspace.",
        hint="Commit .loom/config.toml with the remote, or keep it across checkouts with "
        f"`loom remote add --local -d {conf.name} {conf.url}`.",
    )
    return conf


def known_default(ws: Workspace, ledger: Ledger) -> RemoteConfig | None:
    """The default remote, else the last default this workspace used; quietly (for status)."""
    remotes, default = configured(ws.layers())
    if default in remotes:
        return remotes[default]
    found = _remembered(remotes, default, ledger)
    return found[0] if found else None


def _remembered(
    remotes: dict[str, RemoteConfig], wanted: str | None, ledger: Ledger
) -> tuple[RemoteConfig, str] | None:
    """The remote remembered as ``wanted`` (or the last default), and why it is used."""
    seen = ledger.seen(wanted) if wanted else ledger.latest_default()
    if seen is None:
        return None
    if seen.name in remotes:  # no default is set now; the last one still exists
        return remotes[seen.name], "No default remote is set"
    conf = RemoteConfig(seen.name, seen.url, seen.endpoint_url, False, "memo", "state.db")
    return conf, f"The current configuration has no remote {seen.name!r}"


def _remember(ws: Workspace, remotes: dict[str, RemoteConfig], default: str | None) -> None:
    if not remotes:
        return  # nothing configured: nothing to learn, and no write
    seen = [SeenRemote(r.name, r.url, r.endpoint_url) for r in remotes.values()]
    with Ledger.open(ws) as ledger:
        ledger.remember_remotes(seen, default if default in remotes else None)


def location(ws: Workspace, conf: RemoteConfig) -> str:
    """Where a remote's objects live, as one string: its URL, a local path made absolute
    (relative to the workspace root), plus the endpoint. The ledger keys remotes by it."""
    url = conf.url
    if "://" not in url and not Path(url).is_absolute():
        url = str(ws.root / url)
    return f"{url} @ {conf.endpoint_url}" if conf.endpoint_url else url


def open_config(ws: Workspace, conf: RemoteConfig) -> Remote:
    """Open a resolved remote; a relative local path is relative to the workspace root."""
    from loom.objects.remote import open_remote

    url = conf.url
    if "://" not in url and not Path(url).is_absolute():
        url = str(ws.root / url)
    return open_remote(url, endpoint_url=conf.endpoint_url)


def open_configured(ws: Workspace, name: str | None = None) -> Remote:
    """Open the named remote, or the default one (see :func:`resolve`)."""
    return open_config(ws, resolve(ws, name))


def _no_remote(
    ws: Workspace, remotes: dict[str, RemoteConfig], wanted: str | None, *, named: bool
) -> NoRemoteError | NotFoundError:
    if wanted and named:
        return _unknown(ws, wanted)
    if wanted:
        return NoRemoteError(
            f"The default remote {wanted!r} (core.remote or LOOM_REMOTE) is not configured.",
            hint=f"Add it with `loom remote add {wanted} URL`, or pick another with "
            "`loom remote default NAME`.",
        )
    if not remotes:
        return NoRemoteError("No remote is configured.", hint=_ADD_HINT)
    first = sorted(remotes)[0]
    return NoRemoteError(
        "No default remote is set.",
        hint=f"Name one with `-r {first}` or run `loom remote default {first}`.",
    )


def _not_in_file(ws: Workspace, name: str, local: bool) -> UsageError:
    found = next((r for r in list_remotes(ws) if r.name == name), None)
    if found is None:
        return _unknown(ws, name)
    if found.source == "env":
        return UsageError(
            f"Remote {name!r} comes from environment variable {found.where}.",
            hint=f"Unset {found.where} to remove it.",
            name=name,
        )
    flag = "" if local else " --local"
    return UsageError(
        f"Remote {name!r} is not in {'config.local.toml' if local else 'config.toml'} "
        f"but in {found.where}.",
        hint=f"Run `loom remote remove{flag} {name}`.",
        name=name,
    )


def _unknown(ws: Workspace, name: str) -> NotFoundError:
    known = ", ".join(r.name for r in list_remotes(ws)) or "none"
    return NotFoundError(
        f"There is no remote named {name!r} (configured: {known}).",
        hint="Run `loom remote list`, or add it with `loom remote add NAME URL`.",
        name=name,
    )
