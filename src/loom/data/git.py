"""Running git: the one place that starts a ``git`` process for Loom's own use.

``run`` returns the finished process (the caller reads its status); ``output``
returns stdout and turns a failure into a WorkspaceError naming the command,
git's own words and the caller's hint. A missing git executable is a
UsageError either way, never a traceback.

    >>> output(ws.root, "rev-parse", "HEAD", hint="Commit once first.")   # doctest: +SKIP
    b'3f2a…\\n'
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from loom.errors import UsageError, WorkspaceError


def run(
    cwd: Path, *args: str, data: bytes | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``git ARGS`` in ``cwd``, output captured (``env``: variables to add, such as
    ``GIT_INDEX_FILE``); UsageError when git can't be started."""
    environ = {**os.environ, **env} if env else None
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, env=environ)
    except OSError as exc:  # git itself is missing (or cwd is gone)
        raise UsageError(
            f"Cannot run git in {cwd}: {exc.strerror or exc}.",
            hint="Install git (and run Loom inside a git repository).",
        ) from None


def output(
    cwd: Path,
    *args: str,
    data: bytes | None = None,
    hint: str | None = None,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """stdout of ``git ARGS``; WorkspaceError with git's stderr when it fails."""
    proc = run(cwd, *args, data=data, env=env)
    if proc.returncode != 0:
        said = proc.stderr.decode(errors="replace").strip() or f"exit status {proc.returncode}"
        raise WorkspaceError(
            f"git {args[0]} failed in {cwd}: {said}",
            hint=hint or "Check the repository with `git status` and `git fsck`.",
            command=["git", *args],
        )
    return proc.stdout


def text(
    cwd: Path, *args: str, hint: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """stdout of ``git ARGS`` as one stripped line of text."""
    return output(cwd, *args, hint=hint, env=env).decode("utf-8", "surrogateescape").strip()
