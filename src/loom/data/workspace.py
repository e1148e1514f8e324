"""The workspace: a folder with ``.loom/`` (config, cache, state index), usually a git repo.

>>> ws = Workspace.find()          # walks up from the current directory
>>> ws.rel("data/raw")             # 'data/raw', checked to be inside and addable
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loom import atomic, config
from loom._types import StrPath
from loom.data.root import LOOM_DIR, find_root
from loom.errors import NotAWorkspaceError, UsageError, WorkspaceError

if TYPE_CHECKING:
    from loom.objects.odb import ObjectDB

POINTER_SUFFIX = ".loom"
# Written to .loom/.gitignore: everything in .loom but the committed config.
_LOOM_GITIGNORE = "/cache/\n/state.db*\n/tmp/\n/loom.db*\n/lock\n/config.local.toml\n"
LOCAL_CONFIG = "config.local.toml"
_RESERVED = {".git", LOOM_DIR}


@dataclass
class Workspace:
    root: Path

    @property
    def loom_dir(self) -> Path:
        return self.root / LOOM_DIR

    @property
    def config_path(self) -> Path:
        return self.loom_dir / "config.toml"

    @property
    def tmp(self) -> Path:
        return self.loom_dir / "tmp"

    @property
    def local_config_path(self) -> Path:
        return self.loom_dir / LOCAL_CONFIG

    def layers(self) -> list[config.Layer]:
        """The config files, highest first: ``config.local.toml``, then ``config.toml``.

        Read each time (the files are tiny and another process may change them),
        and every known setting in them is checked, naming the file and key.
        """
        out: list[config.Layer] = []
        for path in (self.local_config_path, self.config_path):
            values = config.read_toml(path)
            config.validate(values, str(path))
            out.append((str(path), values))
        return out

    @property
    def values(self) -> dict[str, Any]:
        """Both config files merged, the local one winning key by key."""
        local, committed = (values for _, values in self.layers())
        return _merge(dict(committed), local)

    def setting(self, key: str) -> Any:
        return config.get(key, self.layers())

    def file_values(self, *, local: bool = False) -> dict[str, Any]:
        """One config file as it is on disk (to edit it and ``save_config`` it back)."""
        return config.read_toml(self.local_config_path if local else self.config_path)

    def save_config(self, values: dict[str, Any], *, local: bool = False) -> None:
        config.write_toml(self.local_config_path if local else self.config_path, values)

    @property
    def cache_dir(self) -> Path:
        """The object cache: ``cache.dir`` (relative to the workspace root), else
        ``.loom/cache``."""
        configured = self.setting("cache.dir")
        if not configured:
            return self.loom_dir / "cache"
        path = Path(os.path.expanduser(str(configured)))
        return path if path.is_absolute() else self.root / path

    @cached_property
    def odb(self) -> ObjectDB:
        # imported here: `loom repro` starts listing folders before the object store loads
        from loom.objects.odb import ObjectDB

        return ObjectDB(self.cache_dir, tmp_dir=self.tmp)

    @property
    def has_git(self) -> bool:
        return (self.root / ".git").exists()

    @classmethod
    def find(cls, start: StrPath | None = None) -> Workspace:
        """The nearest workspace at or above ``start`` (default: the current directory).

        Its config files are checked here, so every command stops on a wrong
        setting with one error naming the file and key, whether it reads that
        setting or not (two small files: well under a millisecond).
        """
        found = cls.find_or_none(start)
        if found is not None:
            found.layers()
            return found
        here = Path(start or os.getcwd()).resolve()
        raise NotAWorkspaceError(
            f"{here} is not inside a Loom workspace (no .loom/config.toml here or above).",
            hint="Run `git init && loom init` in the project's top folder.",
            path=str(here),
        )

    @classmethod
    def find_or_none(cls, start: StrPath | None = None) -> Workspace | None:
        """Like :meth:`find`, but None outside a workspace (or when the cwd is gone)."""
        root = find_root(start)
        return cls(Path(root)) if root is not None else None

    def abspath(self, path: StrPath) -> Path:
        """``path`` (relative to the cwd) made absolute without following a final symlink."""
        p = Path(os.path.abspath(path))
        return p.parent.resolve() / p.name if p.name else p.resolve()

    def rel(self, path: StrPath) -> str:
        """Workspace-relative posix path of ``path``; refuses outside, .git and .loom."""
        p = self.abspath(path)
        try:
            rel = p.relative_to(self.root)
        except ValueError:
            raise UsageError(
                f"{path} is outside the workspace {self.root}.",
                hint="Move or copy the data into the workspace, then `loom add` it.",
                path=str(path),
            ) from None
        parts = rel.parts
        if not parts:
            raise UsageError(
                "The workspace root itself can't be tracked.",
                hint="Add a folder inside it instead, e.g. `loom add data`.",
            )
        if parts[0] in _RESERVED:
            raise UsageError(
                f"{path} is inside {parts[0]}/, which Loom manages itself and never tracks.",
                hint="Add your data folder instead, e.g. `loom add data/raw`.",
                path=str(path),
            )
        return rel.as_posix()

    def path_of(self, rel: str) -> Path:
        return self.root / rel


def init(path: StrPath | None = None, *, no_scm: bool = False, force: bool = False) -> Workspace:
    """Create ``.loom/`` in ``path`` (default: cwd), which must be a git repo unless ``no_scm``.

    >>> ws = init(".")   # after `git init`
    """
    root = Path(path or os.getcwd()).resolve()
    if not no_scm and not (root / ".git").exists():
        raise WorkspaceError(
            f"{root} is not the top folder of a git repository.",
            hint="Run `git init` first, or `loom init --no-scm` to use Loom without git.",
            path=str(root),
        )
    loom_dir = root / LOOM_DIR
    if (loom_dir / "config.toml").exists() and not force:
        raise WorkspaceError(
            f"{root} is already a Loom workspace.",
            hint="Nothing to do; `loom init --force` restores .loom/.gitignore, keeps the config.",
            path=str(root),
        )
    loom_dir.mkdir(exist_ok=True)
    atomic.write_text(loom_dir / ".gitignore", _LOOM_GITIGNORE)
    cfg = loom_dir / "config.toml"
    if not cfg.exists():
        atomic.write_text(cfg, "# Loom workspace settings; committed to git.\n")
    return Workspace(root)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _merge(dict(base[key]), value)
        else:
            base[key] = value
    return base
