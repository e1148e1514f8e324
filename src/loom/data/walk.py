"""Walking tracked folders with ``os.scandir`` (one stat per file) and finding pointers.

Symlinks inside a tracked folder: a link to a file is stored as the file it
points to (checkout writes a regular file); a link to a folder, a dangling
link or a loop is refused by ``add``, because following it could leave the
folder or loop; ``checkout`` and ``status`` set such links aside and go on.
Empty folders hold no files and are not recorded, as in git.
"""

from __future__ import annotations

import errno
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


def follow(path: str) -> tuple[os.stat_result | None, str | None]:
    """The stat of what the symlink ``path`` points to, or None and why Loom can't store it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None, "a symlink to nothing"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "a symlink loop"
        raise
    if stat.S_ISDIR(st.st_mode):
        return None, "a symlink to a folder (Loom stores links to files only)"
    return st, None


def broken_error(path: str, why: str, shown: str | None = None) -> UsageError:
    """The error for an entry Loom can't read: a dangling link, a loop, a link to a folder."""
    return UsageError(
        f"{shown or path} is {why}.",
        hint="Remove the link or point it at a file, then run the command again.",
        path=shown or path,
        reason=why,
    )


TMP_SUFFIX = atomic.TMP_SUFFIX  # temp files of an interrupted checkout; never data


def walk_files(
    top: Path, stale: list[str] | None = None, broken: dict[str, str] | None = None
) -> dict[str, FileStat]:
    """Every file below ``top`` keyed by relative path; symlinks to files are followed.

    Temp files left by a killed checkout are skipped (and listed in ``stale``).
    A link Loom can't follow (dangling, a loop, to a folder) raises a UsageError,
    or, when ``broken`` is given, is left out and recorded there (path -> why):
    ``checkout`` and ``status`` go on with the rest, ``add`` refuses.
    """
    out: dict[str, FileStat] = {}
    new, is_reg = _new_stat, stat.S_ISREG  # locals: this loop runs once per file
    stack = [("", str(top))]
    while stack:
        prefix, folder = stack.pop()
        try:
            it = os.scandir(folder)
        except FileNotFoundError:
            if not prefix:
                raise
            continue  # a sub-folder removed since it was listed
        with it:
            for entry in it:
                name = entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((prefix + name + "/", entry.path))
                    continue
                if name.endswith(TMP_SUFFIX):
                    if stale is not None:
                        stale.append(entry.path)
                    continue
                if entry.is_symlink():
                    st, why = follow(entry.path)
                    if st is None:
                        if broken is None:
                            raise broken_error(entry.path, why or "")
                        broken[prefix + name] = why or ""
                        continue
                else:
                    try:
                        st = entry.stat()
                    except FileNotFoundError:
                        continue  # removed since it was listed: it is not there
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
