"""Where the tracking store and its artifacts live.

Resolution order (DESIGN.md): explicit argument > ``LOOM_TRACKING_URI`` >
``tracking.uri`` in the enclosing workspace's ``.loom/config.toml`` > the
embedded default, ``.loom/loom.db`` of the workspace or ``loom.db`` in the
user data directory.

    >>> resolve_tracking_uri("sqlite:////tmp/x.db")
    'sqlite:////tmp/x.db'
"""

from __future__ import annotations

import os
from pathlib import Path

from loom import config
from loom.data.workspace import Workspace
from loom.errors import UsageError

_SCHEMES = ("sqlite://", "postgresql+psycopg://", "http://", "https://")


def find_workspace(start: Path | None = None) -> Path | None:
    """The root of the workspace at or above ``start`` (default: cwd), if any."""
    ws = Workspace.find_or_none(start)
    return ws.root if ws is not None else None


def workspace_layers(workspace: Path | None) -> list[config.Layer]:
    """The workspace's config files, highest first (none outside a workspace)."""
    return Workspace(workspace).layers() if workspace else []


def user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("loom", appauthor=False))


def resolve_tracking_uri(explicit: str | None = None) -> str:
    """The tracking URI to use; see the module docstring for the order."""
    if explicit:
        return normalize(explicit)
    ws = find_workspace()
    configured = config.get("tracking.uri", workspace_layers(ws))
    if configured:
        return normalize(str(configured), base=ws)
    if ws is not None:
        return sqlite_uri(ws / ".loom" / "loom.db")
    return sqlite_uri(user_data_dir() / "loom.db")


def sqlite_uri(path: Path) -> str:
    return "sqlite:///" + str(Path(path).absolute())


def normalize(uri: str, base: Path | None = None) -> str:
    """Accept a bare path as SQLite; make a relative SQLite path absolute (against ``base``)."""
    if uri.startswith("postgres://"):
        return "postgresql+psycopg://" + uri.removeprefix("postgres://")
    if uri.startswith("postgresql://"):
        return "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    if uri.startswith("sqlite:///"):
        path = uri.removeprefix("sqlite:///")
        if path and not path.startswith("/") and base is not None:
            return sqlite_uri(base / path)
        return uri
    if uri.startswith(_SCHEMES):
        return uri
    if "://" in uri:
        raise UsageError(
            f"Tracking URI {uri!r} has a scheme Loom doesn't know.",
            hint="Use sqlite:///path/to/loom.db or postgresql+psycopg://user@host/db.",
            uri=uri,
        )
    return sqlite_uri(Path(base or Path.cwd()) / uri)


def sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri.removeprefix("sqlite:///").split("?", 1)[0])


def artifact_root(uri: str) -> Path:
    """Root of the object DB that holds a store's artifacts.

    ``tracking.artifact_root`` wins; a store inside a workspace shares the
    workspace cache (``cache.dir``; so a logged artifact and an added dataset dedupe); another
    SQLite store keeps ``objects/`` next to its file; otherwise the user data dir.
    """
    db = sqlite_path(uri)
    ws = find_workspace(db.parent) if db is not None else find_workspace()
    configured = config.get("tracking.artifact_root", workspace_layers(ws))
    if configured:
        root = Path(os.path.expanduser(str(configured)))
        return root if root.is_absolute() else (ws or Path.cwd()) / root
    if db is not None:
        if db.parent.name == ".loom":
            return Workspace(db.parent.parent).cache_dir
        return db.parent / "objects"
    if ws is not None:
        return Workspace(ws).cache_dir
    return user_data_dir() / "objects"


def redact(uri: str) -> str:
    """The URI with any password replaced by ``***``, for printing."""
    import re

    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", uri)
