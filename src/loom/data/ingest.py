"""Hashing new files for ``loom add`` and packing the small ones from the same read.

Without this, add reads every new file twice: once to hash it, once to store
it. Files under the pack threshold are read whole, hashed, and, when the cache
lacks them, written to a pack from those very bytes (so the stored object
always matches its name, even if the file changes meanwhile), a group of
about one pack's size at a time so memory stays bounded. Bigger files are only
hashed here; add stores them afterwards (reflink or copy, verified).

    >>> scan(path, state, hasher=packing_hasher(ws.odb, jobs=8))
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from loom._types import Oid
from loom.data.progress import Advance
from loom.data.scan import Hasher
from loom.objects.bulk import MIN_PACK_OBJECTS, read_small
from loom.objects.hashing import default_jobs, hash_bytes, hash_file
from loom.objects.odb import PACK_MAX, PACK_THRESHOLD, ObjectDB

_BATCH = 64  # files per thread task: amortizes the executor's cost per file


def packing_hasher(odb: ObjectDB, jobs: int | None = None) -> Hasher:
    """A hasher for ``scan`` that also stores small new files, each read once."""

    def hasher(paths: Sequence[str], sizes: Sequence[int], advance: Advance) -> list[Oid]:
        out: list[Oid] = [""] * len(paths)
        small = [i for i, size in enumerate(sizes) if size < PACK_THRESHOLD]
        big = [i for i, size in enumerate(sizes) if size >= PACK_THRESHOLD]

        def read_batch(batch: list[int]) -> list[tuple[int, Oid, bytes]]:
            rows = []
            for i in batch:
                data = read_small(paths[i], sizes[i])
                rows.append((i, hash_bytes(data), data))
            return rows

        with ThreadPoolExecutor(jobs or default_jobs()) as pool:
            big_oids = pool.map(lambda i: hash_file(paths[i], sizes[i]), big)
            for group in _groups(small, sizes):
                batches = [group[k : k + _BATCH] for k in range(0, len(group), _BATCH)]
                rows = pool.map(read_batch, batches)  # read ahead while the pack is written
                fresh = _fresh(odb, rows, out, advance)
                if len(group) >= MIN_PACK_OBJECTS:
                    odb.write_pack(fresh)  # streams: no copy of the group in one buffer
                else:  # a pack of a few objects costs more than it saves
                    for oid, data in fresh:
                        odb.add_bytes(data, oid)
            for i, oid in zip(big, big_oids, strict=True):
                out[i] = oid
                advance(1)
        return out

    return hasher


def _groups(indexes: list[int], sizes: Sequence[int]) -> Iterator[list[int]]:
    """Runs of files adding up to about one pack."""
    group: list[int] = []
    total = 0
    for i in indexes:
        group.append(i)
        total += sizes[i]
        if total >= PACK_MAX:
            yield group
            group, total = [], 0
    if group:
        yield group


def _fresh(
    odb: ObjectDB, results: Iterator[list[tuple[int, Oid, bytes]]], out: list[Oid], advance: Advance
) -> Iterator[tuple[Oid, bytes]]:
    """The ``(oid, bytes)`` the store lacks, batch by batch; fills ``out`` as batches come."""
    for rows in results:
        missing = odb.missing({oid for _, oid, _ in rows})
        for i, oid, data in rows:
            out[i] = oid
            if oid in missing:
                missing.discard(oid)  # a repeat within the batch is stored once
                yield oid, data
        advance(len(rows))
