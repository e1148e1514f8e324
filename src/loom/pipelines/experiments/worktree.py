"""A temporary git worktree at a commit that works as a second view of the workspace.

It shares the main workspace's object cache and tracking store: its
``.loom/config.local.toml`` holds the main workspace's local settings plus
``cache.dir`` and ``tracking.uri``. So outs made in it land in the one cache
(and are restored from it), and the runs it records are the main workspace's
runs. It is removed when the ``with`` block ends, whatever ended it.

    >>> with Worktree(ws, commit, ws.tmp / "exps" / exp_id) as wt:   # doctest: +SKIP
    ...     LocalExecutor(console).start(Job(name, wt.loom("repro"), wt.ws.root, env))
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from types import TracebackType

from loom import config
from loom.data.workspace import LOCAL_CONFIG, Workspace
from loom.pipelines import gitwork


class Worktree:
    def __init__(self, main: Workspace, commit: str, path: Path, *, keep: bool = False) -> None:
        self.main = main
        self.commit = commit
        self.path = path
        self.keep = keep
        self.prefix = gitwork.repo_prefix(main.root)
        self.ws = Workspace(path / self.prefix if self.prefix else path)

    def __enter__(self) -> Worktree:
        gitwork.add_worktree(self.main.root, self.path, self.commit)
        try:
            self._configure()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.keep:
            self.remove()

    def remove(self) -> None:
        gitwork.remove_worktree(self.main.root, self.path)

    def _configure(self) -> None:
        """The commit's ``.loom/config.toml`` (or the workspace's, if it never was
        committed), and the local settings that make it share the cache and the store."""
        from loom.tracking.uri import resolve_tracking_uri

        loom_dir = self.ws.loom_dir
        loom_dir.mkdir(parents=True, exist_ok=True)
        for name in ("config.toml", ".gitignore"):
            if not (loom_dir / name).exists() and (self.main.loom_dir / name).exists():
                shutil.copyfile(self.main.loom_dir / name, loom_dir / name)
        local = self.main.file_values(local=True)
        local.setdefault("cache", {})["dir"] = str(self.main.cache_dir)
        local.setdefault("tracking", {})["uri"] = resolve_tracking_uri()
        config.write_toml(loom_dir / LOCAL_CONFIG, local)

    def env(self) -> dict[str, str]:
        """The environment for a loom process in the worktree: this one's, with the
        settings that name paths made absolute (a relative one means the main workspace)."""
        env = dict(os.environ)
        if env.get("LOOM_CACHE_DIR"):
            env["LOOM_CACHE_DIR"] = str(self.main.cache_dir)
        if env.get("LOOM_TRACKING_URI"):
            from loom.tracking.uri import resolve_tracking_uri

            env["LOOM_TRACKING_URI"] = resolve_tracking_uri()
        return env


def loom_command(*args: str) -> str:
    """A shell command that runs this very Loom (``python -m loom``) with ``args``."""
    return shlex.join([sys.executable, "-m", "loom", *args])
