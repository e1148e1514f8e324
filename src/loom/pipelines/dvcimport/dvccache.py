"""DVC's content hashes and cache, read-only: what ``loom import-dvc`` verifies data against.

A file's DVC hash is the md5 of its bytes. A folder's ends in ``.dir`` and is
the md5 of a JSON listing ``[{"md5": …, "relpath": …}, …]`` sorted by relpath,
written with ``json.dumps(…, sort_keys=True)``; DVC keeps that listing in its
cache as an object of its own. DVC 3 stores objects under
``.dvc/cache/files/md5/ab/cdef…``; DVC 2's (hash ``md5-dos2unix``: a text file
is hashed with CRLF turned into LF) under ``.dvc/cache/ab/cdef…``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import blake3

from loom._types import Oid
from loom.data.walk import walk_files

_CHUNK = 1024 * 1024
DIR_SUFFIX = ".dir"


@dataclass(frozen=True)
class DvcHash:
    """A hash DVC recorded: the md5 (``.dir`` for folders) and whether DVC 2 wrote it."""

    md5: str
    legacy: bool = False  # DVC 2: "md5-dos2unix"

    @property
    def is_dir(self) -> bool:
        return self.md5.endswith(DIR_SUFFIX)


def file_hashes(path: str | os.PathLike[str]) -> tuple[str, str, Oid, int]:
    """One read of a file: its md5, its md5 with CRLF turned into LF, its BLAKE3, its size."""
    md5, unix, b3, size = hashlib.md5(), hashlib.md5(), blake3.blake3(), 0
    tail = b""  # a chunk ending in CR: its CRLF may straddle the boundary
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            md5.update(chunk)
            b3.update(chunk)
            size += len(chunk)
            text = tail + chunk
            tail = b"\r" if text.endswith(b"\r") else b""
            unix.update(text[: len(text) - len(tail)].replace(b"\r\n", b"\n"))
    unix.update(tail)
    return md5.hexdigest(), unix.hexdigest(), b3.hexdigest(), size


def matches(want: DvcHash, md5: str, unix_md5: str) -> bool:
    return want.md5 == md5 or (want.legacy and want.md5 == unix_md5)


def listing_md5(entries: dict[str, str]) -> str:
    """DVC's ``.dir`` hash of a folder whose files (relpath -> md5) are ``entries``."""
    rows = [{"md5": md5, "relpath": rel} for rel, md5 in sorted(entries.items())]
    return hashlib.md5(json.dumps(rows, sort_keys=True).encode("utf-8")).hexdigest() + DIR_SUFFIX


@dataclass
class Listed:
    """A folder in the workspace hashed both ways: relpath -> (md5, unix md5, blake3, size)."""

    files: dict[str, tuple[str, str, Oid, int]]

    def dvc_md5(self, legacy: bool) -> str:
        return listing_md5({rel: h[1] if legacy else h[0] for rel, h in self.files.items()})


def hash_folder(path: Path) -> Listed:
    """Every file under ``path`` (links to files followed, as DVC does), hashed both ways."""
    stats = walk_files(path, [], None)
    return Listed({rel: file_hashes(path / rel) for rel in sorted(stats)})


class DvcCache:
    """DVC's local cache (``.dvc/cache`` unless ``cache.dir`` says otherwise)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, h: DvcHash) -> Path | None:
        """Where the object is, in DVC 3's layout or DVC 2's; None if in neither."""
        md5 = h.md5
        for base in (self.root / "files" / "md5", self.root):
            p = base / md5[:2] / md5[2:]
            if p.is_file():
                return p
        return None

    def listing(self, h: DvcHash) -> dict[str, DvcHash] | None:
        """A ``.dir`` object's files (relpath -> hash) if it is cached and intact, else None."""
        p = self.path(h)
        if p is None:
            return None
        data = p.read_bytes()
        if hashlib.md5(data).hexdigest() + DIR_SUFFIX != h.md5:
            return None
        try:
            rows = json.loads(data)
            return {r["relpath"]: DvcHash(r["md5"], h.legacy) for r in rows}
        except (ValueError, KeyError, TypeError):
            return None
