"""Putting one cached object at a workspace path, atomically, verified, by ``cache.type``.

    >>> key = place(odb, entry, Path("data/raw/a.csv"), ["reflink", "copy"])

The bytes go to a temp name beside the destination and are renamed over it,
so a kill leaves the old file or the new one. A packed object is read
(verified against its name) and written in one pass; a loose one goes through
``ObjectDB.write_to``, which verifies copies and links alike.
"""

from __future__ import annotations

import os
from pathlib import Path

from loom import atomic
from loom.data.state import StatKey
from loom.errors import LinkError
from loom.objects.odb import ObjectDB
from loom.objects.tree import TreeEntry


def place(
    odb: ObjectDB, entry: TreeEntry, dest: Path, modes: list[str], made: set[str] | None = None
) -> StatKey:
    """Write ``entry`` at ``dest`` with the first link mode that works; returns its stat key.

    ``made`` collects folders already created during one checkout, so each is made once.
    """
    dest_s = str(dest)
    folder = os.path.dirname(dest_s)
    if made is None or folder not in made:
        os.makedirs(folder, exist_ok=True)
        if made is not None:
            made.add(folder)
    tmp = atomic.temp_path(folder)  # a short name of its own: a 255-byte name must work
    try:
        if modes[0] in ("reflink", "copy") and odb.is_packed(entry.hash):
            return _write_packed(odb, entry, tmp, dest_s)
        return _write_loose(odb, entry, tmp, dest_s, modes)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def _write_loose(odb: ObjectDB, entry: TreeEntry, tmp: str, dest: str, modes: list[str]):
    for mode in modes:
        try:
            odb.write_to(entry.hash, tmp, mode)
        except LinkError:
            continue
        if mode in ("reflink", "copy"):
            set_exec(tmp, entry.exec)
        atomic.install(tmp, dest)
        st = os.stat(dest)
        return (st.st_ino, st.st_mtime_ns, st.st_size)
    raise LinkError(
        f"None of the link modes {', '.join(modes)} work for {dest}.",
        hint="Set cache.type to reflink,copy in .loom/config.toml.",
        path=dest,
    )


def _write_packed(odb: ObjectDB, entry: TreeEntry, tmp: str, dest: str) -> StatKey:
    data = odb.read(entry.hash)  # verified: CorruptObjectError names the pack
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o777 if entry.exec else 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        st = os.fstat(fd)
    finally:
        os.close(fd)
    atomic.install(tmp, dest)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def set_exec(path: str | Path, exec_: bool) -> None:
    """Give ``x`` to whoever may read (like git), or take every ``x`` away."""
    mode = os.stat(path).st_mode & 0o777
    new = mode | ((mode >> 2) & 0o111) | 0o100 if exec_ else mode & ~0o111
    if new != mode:
        os.chmod(path, new)


def place_packed_batch(odb: ObjectDB, items: list[tuple[str, TreeEntry]]) -> list[StatKey]:
    """Write many packed objects at new-or-replaced paths; their folders already exist.

    The objects are read with one ``pread`` per run of pack neighbours and each
    is verified against its name before any byte reaches the workspace (a
    CorruptObjectError fails the whole batch; the caller retries file by file
    to find the culprit). Each file is written to a temp name and renamed, as
    in ``place``: a kill leaves no half file under a real name.
    """
    blobs = dict(odb.packs.read_many({e.hash for _, e in items}))
    keys = []
    for dest, entry in items:
        data = blobs.get(entry.hash)
        if data is None:  # repacked by a concurrent gc: the one-by-one path looks it up again
            keys.append(place(odb, entry, Path(dest), ["copy"]))
            continue
        tmp = atomic.temp_path(os.path.dirname(dest))
        keys.append(_write_new(tmp, dest, data, entry.exec))
    return keys


def _write_new(tmp: str, dest: str, data: bytes, exec_: bool) -> StatKey:
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o777 if exec_ else 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        st = os.fstat(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    atomic.install(tmp, dest)  # a rename keeps the inode and mtime that fstat saw
    return (st.st_ino, st.st_mtime_ns, st.st_size)
