"""The object database: maps an oid to a path under ``<root>/blake3/ab/cdef…``.

Objects are immutable and read-only once written. Every write goes to a temp
file in the same filesystem and is renamed into place, so a process killed at
any moment leaves either no object or a whole one — never a torn one.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

from loom._types import Oid, StrPath
from loom.errors import CorruptObjectError, MissingObjectError
from loom.objects.hashing import ALGO, hash_bytes, hash_file, is_oid

_READONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


class ObjectDB:
    """Loose objects on a local filesystem."""

    def __init__(self, root: StrPath, tmp_dir: StrPath | None = None) -> None:
        self.root = Path(root)
        self.objects = self.root / ALGO
        self.tmp = Path(tmp_dir) if tmp_dir else self.root / "tmp"

    def __repr__(self) -> str:
        return f"ObjectDB({str(self.root)!r})"

    def path(self, oid: Oid) -> Path:
        return self.objects / oid[:2] / oid[2:]

    def exists(self, oid: Oid) -> bool:
        return self.path(oid).exists()

    def _tmp_path(self) -> Path:
        self.tmp.mkdir(parents=True, exist_ok=True)
        return self.tmp / f"{uuid.uuid4().hex}.tmp"

    def _install(self, tmp: Path, oid: Oid) -> Path:
        dest = self.path(oid)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, _READONLY)
        os.replace(tmp, dest)
        return dest

    def add_bytes(self, data: bytes, oid: Oid | None = None) -> Oid:
        oid = oid or hash_bytes(data)
        if self.exists(oid):
            return oid
        tmp = self._tmp_path()
        with open(tmp, "wb") as f:
            f.write(data)
        self._install(tmp, oid)
        return oid

    def add_file(self, src: StrPath, oid: Oid | None = None, *, verify: bool = False) -> Oid:
        """Copy ``src`` into the store (a reflink where the filesystem can)."""
        oid = oid or hash_file(src)
        if self.exists(oid):
            return oid
        tmp = self._tmp_path()
        try:
            copy_file(src, tmp)
            if verify and hash_file(tmp) != oid:
                raise CorruptObjectError(
                    f"{src} changed while it was being added.",
                    hint="Run the command again once the file is no longer being written.",
                    path=str(src),
                )
            self._install(tmp, oid)
        finally:
            tmp.unlink(missing_ok=True)
        return oid

    def open(self, oid: Oid):
        try:
            return open(self.path(oid), "rb")
        except FileNotFoundError:
            raise MissingObjectError(
                f"Object {oid} is not in the cache at {self.root}.",
                hint="Run `loom pull` to fetch it from the remote.",
                oid=oid,
            ) from None

    def read(self, oid: Oid) -> bytes:
        with self.open(oid) as f:
            return f.read()

    def verify(self, oid: Oid) -> None:
        """Raise CorruptObjectError if the object's bytes don't hash to its name."""
        p = self.path(oid)
        if not p.exists():
            raise MissingObjectError(f"Object {oid} is missing from {self.root}.", oid=oid)
        actual = hash_file(p)
        if actual != oid:
            raise CorruptObjectError(
                f"Corrupt object {p}: its bytes hash to {actual}.",
                hint="Run `loom fsck` to list every bad object, then `loom pull` to refetch.",
                oid=oid,
                path=str(p),
            )

    def remove(self, oid: Oid) -> None:
        p = self.path(oid)
        try:
            os.chmod(p, stat.S_IWUSR | stat.S_IRUSR)
            p.unlink()
        except FileNotFoundError:
            pass

    def iter_oids(self) -> Iterator[Oid]:
        if not self.objects.is_dir():
            return
        for prefix in os.scandir(self.objects):
            if not prefix.is_dir() or len(prefix.name) != 2:
                continue
            for entry in os.scandir(prefix.path):
                oid = prefix.name + entry.name
                if is_oid(oid):
                    yield oid


def copy_file(src: StrPath, dst: StrPath) -> None:
    """Copy bytes only (no metadata); reflinks on filesystems that support them."""
    try:
        import fcntl

        with open(src, "rb") as fs, open(dst, "wb") as fd:
            fcntl.ioctl(fd.fileno(), 0x40049409, fs.fileno())  # FICLONE
        return
    except OSError:
        pass
    shutil.copyfile(src, dst)
