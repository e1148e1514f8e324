"""The workspace: a folder with ``.loom/`` (config, cache, state index), usually a git repo.

>>> ws = Workspace.find()          # walks up from the current directory
>>> ws.rel("data/raw")             # 'data/raw', checked to be inside and addable
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from loom import config
from loom._types import StrPath
from loom.errors import NotAWorkspaceError, UsageError, WorkspaceError
from loom.objects.odb import ObjectDB

LOOM_DIR = ".loom"
POINTER_SUFFIX = ".loom"
# Written to .loom/.gitignore: everything in .loom but the committed config.
_LOOM_GITIGNORE = "/cache/\n/state.db*\n/tmp/\n/loom.db*\n/lock\n"
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
    def values(self) -> dict[str, Any]:
        # Read each time: the file is tiny and another process may have changed it.
        return config.read_toml(self.config_path)

    def setting(self, key: str) -> Any:
        return config.get(key, self.values)

    def save_config(self, values: dict[str, Any]) -> None:
        config.write_toml(self.config_path, values)

    @cached_property
    def odb(self) -> ObjectDB:
        return ObjectDB(self.loom_dir / "cache", tmp_dir=self.tmp)

    @property
    def has_git(self) -> bool:
        return (self.root / ".git").exists()

    @classmethod
    def find(cls, start: StrPath | None = None) -> Workspace:
        """The nearest workspace at or above ``start`` (default: the current directory)."""
        here = Path(start or os.getcwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / LOOM_DIR / "config.toml").is_file():
                return cls(folder)
        raise NotAWorkspaceError(
            f"{here} is not inside a Loom workspace (no .loom/config.toml here or above).",
            hint="Run `git init && loom init` in the project's top folder.",
            path=str(here),
        )

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
    ignore = loom_dir / ".gitignore"
    tmp = ignore.with_name(".gitignore.tmp")
    tmp.write_text(_LOOM_GITIGNORE, encoding="utf-8")
    os.replace(tmp, ignore)
    cfg = loom_dir / "config.toml"
    if not cfg.exists():
        tmp = cfg.with_name("config.toml.tmp")
        tmp.write_text("# Loom workspace settings; committed to git.\n", encoding="utf-8")
        os.replace(tmp, cfg)
    return Workspace(root)
