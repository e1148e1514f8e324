"""BLAKE3 content hashing: one file, many files in parallel, or bytes."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeGuard

import blake3

from loom._types import Oid, StrPath

ALGO = "blake3"
# Above this size a file is hashed with BLAKE3's own threads over an mmap.
_MMAP_THRESHOLD = 8 * 1024 * 1024
_CHUNK = 1024 * 1024


def default_jobs() -> int:
    """Workers for I/O-bound parallel work: a few per core, as small-file work waits on syscalls."""
    return max(4, (os.cpu_count() or 1) * 4)


def hash_bytes(data: bytes | bytearray | memoryview) -> Oid:
    return blake3.blake3(data).hexdigest()


def hash_file(path: StrPath, size: int | None = None) -> Oid:
    """Hash one file's bytes; big files use all cores (BLAKE3 is a tree hash)."""
    if size is None:
        size = os.stat(path).st_size
    if size >= _MMAP_THRESHOLD:
        return blake3.blake3(max_threads=blake3.blake3.AUTO).update_mmap(path).hexdigest()
    if size <= _CHUNK:
        with open(path, "rb") as f:
            return blake3.blake3(f.read()).hexdigest()
    hasher = blake3.blake3()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def hash_files(paths: Sequence[StrPath], jobs: int | None = None, on_done=None) -> list[Oid]:
    """Hash many files in parallel threads; ``on_done(n)`` is called as files finish."""
    jobs = jobs or default_jobs()
    if len(paths) < 64 or jobs == 1:
        out = []
        for p in paths:
            out.append(hash_file(p))
            if on_done:
                on_done(1)
        return out

    def one(p: StrPath) -> Oid:
        oid = hash_file(p)
        if on_done:
            on_done(1)
        return oid

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, paths, chunksize=32))


_OID = re.compile(r"[0-9a-f]{64}")


def is_oid(value: object) -> TypeGuard[Oid]:
    # a compiled regex: trees check 20k hashes on every load, a char loop cost 0.3 s
    return isinstance(value, str) and _OID.fullmatch(value) is not None


def iter_chunks(path: StrPath, chunk: int = _CHUNK) -> Iterable[bytes]:
    with open(path, "rb") as f:
        while data := f.read(chunk):
            yield data
