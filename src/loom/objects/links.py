"""Putting an object's bytes at a path: reflink, copy, hardlink or symlink.

Copies land in a temp file beside ``dest`` and are renamed over it, so a
killed checkout never leaves a half-written file under the real name.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from loom import atomic
from loom._types import StrPath
from loom.errors import LinkError, ValidationError

MODES = ("reflink", "copy", "hardlink", "symlink")
_FICLONE = 0x40049409
# errnos meaning "this filesystem or pair of paths can't do that link", not "a bug"
_UNSUPPORTED = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EOPNOTSUPP, errno.ENOTSUP}


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValidationError(
            f"Unknown link mode {mode!r}.",
            hint=f"Use one of: {', '.join(MODES)} (e.g. `loom config cache.type reflink,copy`).",
        )


def reflink(src: StrPath, dst: StrPath) -> bool:
    """Clone ``src`` to the new file ``dst`` sharing extents; False where unsupported."""
    try:
        import fcntl

        with open(src, "rb") as fs, open(dst, "wb") as fd:
            fcntl.ioctl(fd.fileno(), _FICLONE, fs.fileno())
        return True
    except (OSError, ImportError):
        return False


def copy_file(src: StrPath, dst: StrPath) -> None:
    """Copy bytes only (no metadata); reflinks on filesystems that support them."""
    if not reflink(src, dst):
        shutil.copyfile(src, dst)


def temp_beside(dest: Path) -> Path:
    return Path(atomic.temp_path(dest.parent))


def place_copy(src: Path, dest: Path, mode: str) -> Path:
    """Reflink-or-copy ``src`` to a temp beside ``dest``; returns the temp (caller renames)."""
    tmp = temp_beside(dest)
    if mode == "reflink":
        copy_file(src, tmp)
    else:
        shutil.copyfile(src, tmp)
    return tmp


def place_bytes(data: bytes, dest: Path) -> None:
    atomic.write_bytes(dest, data)


def place_link(src: Path, dest: Path, mode: str) -> None:
    """Hardlink or symlink ``dest`` to the cache file ``src``; LinkError if impossible here."""
    try:
        if mode == "hardlink":
            os.link(src, dest)
        else:
            os.symlink(os.path.abspath(src), dest)
    except OSError as exc:
        if exc.errno not in _UNSUPPORTED:
            raise
        raise LinkError(
            f"Cannot {mode} {dest} to the cache at {src}: {exc.strerror}.",
            hint="Use another link mode, e.g. `loom config cache.type reflink,copy`.",
            mode=mode,
            path=str(dest),
        ) from None
