"""Pack files: many small objects in one file plus a sorted index, as git does.

The same layout serves the local cache and every remote, under ``<root>/packs/``::

    pack-<id>.pack  b"LOOMPACK" + u32 version, then object bytes back to back
    pack-<id>.idx   b"LOOMIDX\\0" + u32 version + u32 count,
                    count x (32-byte oid, u64 offset, u64 size) sorted by oid,
                    then the 32-byte BLAKE3 of everything before it

``<id>`` is the BLAKE3 of the index entries. Since an oid fixes its bytes, the
entries fix the whole pack: the same objects always make the same pack name,
so a re-run push rewrites identical bytes instead of leaving garbage. The index
is written after its pack and is what makes the pack visible; a pack without an
index is invisible, and gc removes it once it is older than the grace period.

    >>> body, pack_id = encode_index([("ab" * 32, 12, 3)])
    >>> [(e.oid[:4], e.offset, e.size) for e in decode_index(body, "x.idx")]
    [('abab', 12, 3)]
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import NamedTuple

import blake3

from loom._types import Oid
from loom.errors import CorruptObjectError

PACK_MAGIC = b"LOOMPACK" + struct.pack(">I", 1)
IDX_MAGIC = b"LOOMIDX\0"
_IDX_HEAD = struct.Struct(">8sII")
_ENTRY = struct.Struct(">32sQQ")
_SUM = 32
PACKS_DIR = "packs"


class PackEntry(NamedTuple):
    """One object of a pack (a tuple: 20k of them decode in a few ms)."""

    oid: Oid
    offset: int
    size: int


def pack_name(pack_id: str) -> str:
    return f"pack-{pack_id}.pack"


def idx_name(pack_id: str) -> str:
    return f"pack-{pack_id}.idx"


def pack_id_of(name: str) -> str | None:
    """``pack-<id>.idx`` → ``<id>``; None for any other name (temp files, stray files)."""
    if name.startswith("pack-") and name.endswith(".idx") and len(name) == 5 + 64 + 4:
        return name[5:-4]
    return None


def encode_index(entries: Iterable[tuple[Oid, int, int]]) -> tuple[bytes, str]:
    """Serialize ``(oid, offset, size)`` rows; returns ``(index bytes, pack id)``."""
    rows = sorted(entries)
    body = b"".join(_ENTRY.pack(bytes.fromhex(oid), off, size) for oid, off, size in rows)
    pack_id = blake3.blake3(body).hexdigest()
    head = _IDX_HEAD.pack(IDX_MAGIC, 1, len(rows)) + body
    return head + blake3.blake3(head).digest(), pack_id


def decode_index(data: bytes, where: str) -> list[PackEntry]:
    """Parse an index, checking its magic, length and checksum; ``where`` names it in errors."""
    if len(data) < _IDX_HEAD.size + _SUM:
        raise _bad_index(where, "it is truncated")
    magic, version, count = _IDX_HEAD.unpack_from(data)
    if magic != IDX_MAGIC or version != 1:
        raise _bad_index(where, "it does not start with a Loom index header")
    if len(data) != _IDX_HEAD.size + count * _ENTRY.size + _SUM:
        raise _bad_index(where, "its length does not match its entry count")
    if blake3.blake3(data[:-_SUM]).digest() != data[-_SUM:]:
        raise _bad_index(where, "its checksum does not match its bytes")
    body = memoryview(data)[_IDX_HEAD.size : -_SUM]
    return [PackEntry(raw.hex(), off, size) for raw, off, size in _ENTRY.iter_unpack(body)]


def index_pack_id(data: bytes) -> str:
    """The pack id an index's entries name (to check that a file's name matches its body)."""
    return blake3.blake3(data[_IDX_HEAD.size : -_SUM]).hexdigest()


def build_pack(objects: Iterable[tuple[Oid, bytes]]) -> tuple[bytes, bytes, str]:
    """Build a pack in memory: ``(pack bytes, index bytes, pack id)`` (used for remotes)."""
    parts = [PACK_MAGIC]
    offset = len(PACK_MAGIC)
    rows = []
    for oid, data in sorted(objects):
        rows.append((oid, offset, len(data)))
        parts.append(data)
        offset += len(data)
    idx, pack_id = encode_index(rows)
    return b"".join(parts), idx, pack_id


def _bad_index(where: str, why: str) -> CorruptObjectError:
    return CorruptObjectError(
        f"Corrupt pack index {where}: {why}.",
        hint="Run `loom fsck`; the objects it lists are refetched by `loom pull`.",
        path=where,
    )
