"""Atomic file writes: the one helper every writer of a file uses (layer 0).

A write goes to a temp file with a short name of its own in the destination's
folder (or in a temp folder on the same filesystem), is optionally fsynced
and made read-only, then renamed over the destination. A reader sees the old
file or the new one, never part of one; a killed writer leaves at most a temp
file, whose name ends in ``TMP_SUFFIX`` so a later sweep can find it.

The temp name never derives from the destination's: a 255-byte file name is
as writable as a short one, and two threads writing one file never collide.

    >>> write_text(Path("params.yaml"), "lr: 0.1\\n")           # doctest: +SKIP
    >>> with atomic_file(dest, fsync=True, readonly=True) as f:  # doctest: +SKIP
    ...     f.write(data)
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from loom._types import StrPath

TMP_SUFFIX = ".loomtmp"
READONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH

# A random per-process prefix and a counter: unique across processes and threads
# (next() on itertools.count is atomic under the GIL), and ~1 µs, where uuid4
# costs more than a small checkout write.
_prefix = os.urandom(4).hex()  # not `secrets`: its import costs ~7 ms of every command
_counter = itertools.count()


def _after_fork() -> None:
    global _prefix, _counter
    _prefix, _counter = os.urandom(4).hex(), itertools.count()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def temp_name() -> str:
    """A fresh short file name (under 30 bytes) for a temp file."""
    return f".{_prefix}{next(_counter):x}{TMP_SUFFIX}"


def temp_path(folder: StrPath) -> str:
    """A fresh temp path inside ``folder`` (which must exist)."""
    return os.path.join(os.fspath(folder), temp_name())


def is_temp(name: str) -> bool:
    return name.endswith(TMP_SUFFIX)


@contextmanager
def atomic_file(
    dest: StrPath,
    *,
    fsync: bool = False,
    readonly: bool = False,
    mode: int = 0o666,
    tmp_dir: StrPath | None = None,
) -> Iterator[BinaryIO]:
    """A binary file that replaces ``dest`` when the block ends without an error.

    ``fsync`` forces the bytes to disk before the rename (durability across a
    power cut, not only a kill); ``readonly`` makes the result read-only (cache
    objects); ``tmp_dir`` puts the temp file elsewhere on the same filesystem.
    On an error the temp file is removed and ``dest`` is untouched.
    """
    dest = os.fspath(dest)
    tmp = temp_path(tmp_dir if tmp_dir is not None else os.path.dirname(dest) or ".")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        install(tmp, dest, readonly=readonly)
    except BaseException:
        _unlink(tmp)
        raise


def write_bytes(
    dest: StrPath,
    data: bytes,
    *,
    fsync: bool = False,
    readonly: bool = False,
    tmp_dir: StrPath | None = None,
) -> None:
    """Replace ``dest`` with ``data`` atomically (options as for :func:`atomic_file`)."""
    with atomic_file(dest, fsync=fsync, readonly=readonly, tmp_dir=tmp_dir) as f:
        f.write(data)


def write_text(dest: StrPath, text: str, *, encoding: str = "utf-8", fsync: bool = False) -> None:
    write_bytes(dest, text.encode(encoding), fsync=fsync)


def create_bytes(dest: StrPath, data: bytes, *, fsync: bool = False) -> bool:
    """Write ``data`` to ``dest`` only where nothing is: True if it did, False if a file was
    there (left untouched). The file appears whole or not at all: it is linked into place
    from a temp file, since a rename would replace what another process put there first.
    OSError where the filesystem has no hard links."""
    dest = os.fspath(dest)
    tmp = temp_path(os.path.dirname(dest) or ".")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        try:
            os.link(tmp, dest)
        except FileExistsError:
            return False
        return True
    finally:
        _unlink(tmp)


def install(tmp: StrPath, dest: StrPath, *, readonly: bool = False) -> None:
    """Rename the finished temp file ``tmp`` over ``dest``.

    Across filesystems (EXDEV: a temp folder elsewhere) the bytes are first
    copied to a temp file beside ``dest``, so the final step is still a rename.
    """
    if readonly:
        os.chmod(tmp, READONLY)
    try:
        os.replace(tmp, dest)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    import shutil  # only here: its import costs ~3 ms of every command

    beside = temp_path(os.path.dirname(os.fspath(dest)) or ".")
    try:
        shutil.copyfile(tmp, beside)
        if readonly:
            os.chmod(beside, READONLY)
        os.replace(beside, dest)
    except BaseException:
        _unlink(beside)
        raise
    _unlink(tmp)


def fsync_dir(path: StrPath) -> None:
    """Make a rename inside ``path`` durable (where the platform allows it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)


def _unlink(path: StrPath) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
