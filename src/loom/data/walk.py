"""Walking tracked folders with ``os.scandir`` (one stat per file) and finding pointers.

Symlinks inside a tracked folder: a link to a file is stored as the file it
points to (checkout writes a regular file); a link to a folder or a dangling
link is refused, because following it could leave the folder or loop.
Empty folders hold no files and are not recorded, as in git.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import NamedTuple

from loom import atomic
from loom.data.pointer import SUFFIX
from loom.data.state import StatKey
from loom.errors import UsageError

_SKIP_DIRS = {".git", ".loom"}


class FileStat(NamedTuple):
    rel: str  # relative to the walked folder, posix
    key: StatKey
    exec: bool


_new_stat = tuple.__new__  # builds a FileStat without NamedTuple's Python-level __new__


def check_names(stats: dict[str, FileStat]) -> None:
    """Refuse names that are not UTF-8 (one encode of all names; the culprit is found after)."""
    try:
        "\0".join(stats).encode("utf-8")
        return
    except UnicodeEncodeError:
        pass
    for path in stats:
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(
                f"File name {path!r} is not valid UTF-8, which pointer files and trees need.",
                hint="Rename the file (e.g. with `convmv`) and run the command again.",
                path=path,
            ) from None


def stat_following(path: str) -> os.stat_result:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UsageError(
            f"{path} is a symlink to nothing.",
            hint="Remove the dangling link or point it at a file, then run again.",
            path=path,
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(
            f"{path} is a symlink to a folder; Loom stores links to files only.",
            hint="Replace the link with a copy of the folder, or add the target separately.",
            path=path,
        )
    return st


TMP_SUFFIX = atomic.TMP_SUFFIX  # temp files of an interrupted checkout; never data


def walk_files(top: Path, stale: list[str] | None = None) -> dict[str, FileStat]:
    """Every file below ``top`` keyed by relative path; symlinks to files are followed.

    Temp files left by a killed checkout are skipped (and listed in ``stale``).
    """
    out: dict[str, FileStat] = {}
    new, is_reg = _new_stat, stat.S_ISREG  # locals: this loop runs once per file
    stack = [("", str(top))]
    while stack:
        prefix, folder = stack.pop()
        with os.scandir(folder) as it:
            for entry in it:
                name = entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((prefix + name + "/", entry.path))
                    continue
                if name.endswith(TMP_SUFFIX):
                    if stale is not None:
                        stale.append(entry.path)
                    continue
                st = stat_following(entry.path) if entry.is_symlink() else entry.stat()
                if not is_reg(st.st_mode):
                    continue  # sockets, fifos and devices are not data
                rel = prefix + name
                out[rel] = new(
                    FileStat,
                    (rel, (st.st_ino, st.st_mtime_ns, st.st_size), st.st_mode & 0o100 != 0),
                )
    check_names(out)
    return out


def find_pointers(root: Path, *, use_git: bool = True) -> list[str]:
    """Workspace-relative paths of every ``*.loom`` pointer file, sorted.

    With git, ``git ls-files`` lists them without walking ignored folders
    (the tracked data itself, virtualenvs); without git, a plain walk that
    skips tracked folders.
    """
    if use_git and (root / ".git").exists():
        found = _git_pointers(root)
        if found is not None:
            return found
    out: list[str] = []
    stack = [("", str(root))]
    while stack:
        prefix, folder = stack.pop()
        with os.scandir(folder) as it:
            entries = list(it)
        names = {e.name for e in entries}
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                if e.name not in _SKIP_DIRS and e.name + SUFFIX not in names:
                    stack.append((prefix + e.name + "/", e.path))
            elif e.name.endswith(SUFFIX) and e.is_file():
                out.append(prefix + e.name)
    return sorted(out)


def _git_pointers(root: Path) -> list[str] | None:
    cmd = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "*" + SUFFIX]
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    rels = {os.fsdecode(p) for p in proc.stdout.split(b"\0") if p}
    return sorted(r for r in rels if not r.startswith(".loom/") and (root / r).is_file())
