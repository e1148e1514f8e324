"""The workers of ``transfer.pull``: ranged reads of remote packs, loose downloads, verification.

Wanted entries of one remote pack are read in as few ranged GETs as possible:
neighbours closer than _GAP are merged, since fetching a few unwanted bytes is
cheaper than another round trip. Every object is hashed before it is kept.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from loom._types import Oid
from loom.errors import CorruptObjectError
from loom.objects.bulk import MIN_PACK_OBJECTS
from loom.objects.hashing import hash_bytes, hash_file
from loom.objects.odb import PACK_MAX, ObjectDB
from loom.objects.pack import PACK_MAGIC
from loom.objects.remote import Remote
from loom.objects.transfer import OnDone, TransferResult, is_small

_GAP = 256 * 1024
_RANGE_MAX = 16 * 1024 * 1024
_DENSE = 0.9  # keep a fetched run whole when at most 10% of it is bytes we didn't ask for

Entry = tuple[Oid, int, int]  # oid, offset, size


@dataclass
class Fetched:
    """What one worker brought back: verified bytes, objects it installed itself, problems."""

    good: list[tuple[Oid, bytes]] = field(default_factory=list)
    blob: bytes = b""  # a dense, fully verified run of a remote pack, kept as one local pack
    rows: list[Entry] = field(default_factory=list)  # (oid, offset in blob, size)
    installed: int = 0
    bad: list[CorruptObjectError] = field(default_factory=list)
    gone: set[Oid] = field(default_factory=set)
    nbytes: int = 0


def run_pull(
    odb: ObjectDB,
    remote: Remote,
    oids: list[Oid],
    index: dict[Oid, tuple[str, int, int]],
    result: TransferResult,
    *,
    jobs: int,
    on_done: OnDone,
) -> tuple[list[CorruptObjectError], set[Oid]]:
    by_pack: dict[str, list[Entry]] = defaultdict(list)
    loose = []
    for oid in oids:
        if (hit := index.get(oid)) is not None:
            by_pack[hit[0]].append((oid, hit[1], hit[2]))
        else:
            loose.append(oid)
    corrupt: list[CorruptObjectError] = []
    absent: set[Oid] = set()
    out = _PackBuffer(odb)
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        futs = [
            pool.submit(_fetch_range, remote, pid, rng)
            for pid, entries in by_pack.items()
            for rng in _ranges(entries)
        ]
        futs += [pool.submit(_fetch_loose, odb, remote, oid) for oid in loose]
        for fut in as_completed(futs):
            got: Fetched = fut.result()
            out.add(got)
            corrupt.extend(got.bad)
            absent.update(got.gone)
            n = len(got.good) + len(got.rows) + got.installed
            result.transferred += n
            result.bytes += got.nbytes
            if on_done:
                on_done(n + len(got.bad) + len(got.gone))
        out.flush()
    return corrupt, absent


class _PackBuffer:
    """Gathers fetched runs and objects into local packs of up to PACK_MAX bytes.

    Fewer, bigger packs mean fewer fsyncs: 20k pulled objects make 2 packs, not 6+.
    """

    def __init__(self, odb: ObjectDB) -> None:
        self.odb = odb
        self.parts: list[bytes] = [PACK_MAGIC]
        self.rows: list[Entry] = []
        self.offset = len(PACK_MAGIC)

    def add(self, got: Fetched) -> None:
        if got.rows:
            self.parts.append(got.blob)
            self.rows += [(oid, self.offset + off, n) for oid, off, n in got.rows]
            self.offset += len(got.blob)
        for oid, data in got.good:
            if not is_small(len(data)):
                self.odb.add_bytes(data, oid, loose=True)
                continue
            self.parts.append(data)
            self.rows.append((oid, self.offset, len(data)))
            self.offset += len(data)
        if self.offset >= PACK_MAX:
            self.flush()

    def flush(self) -> None:
        if len(self.rows) >= MIN_PACK_OBJECTS:
            self.odb.packs.write_raw(self.parts, self.rows, self.odb.tmp)
        elif self.rows:  # a handful: loose, as add_files would store them
            whole = b"".join(self.parts)
            for oid, offset, size in self.rows:
                self.odb.add_bytes(whole[offset : offset + size], oid, loose=True)
        self.parts, self.rows, self.offset = [PACK_MAGIC], [], len(PACK_MAGIC)


def _ranges(entries: list[Entry]) -> list[list[Entry]]:
    entries = sorted(entries, key=lambda e: e[1])
    out: list[list[Entry]] = [[entries[0]]]
    for e in entries[1:]:
        first, last = out[-1][0], out[-1][-1]
        if e[1] - (last[1] + last[2]) <= _GAP and e[1] + e[2] - first[1] <= _RANGE_MAX:
            out[-1].append(e)
        else:
            out.append([e])
    return out


def _fetch_range(remote: Remote, pack_id: str, entries: list[Entry]) -> Fetched:
    path = remote.pack_path(pack_id)
    start = entries[0][1]
    end = entries[-1][1] + entries[-1][2]
    try:
        blob = remote.cat_range(path, start, end)
    except FileNotFoundError:
        return Fetched(gone={e[0] for e in entries})
    got = Fetched(nbytes=len(blob))
    view = memoryview(blob)
    for oid, offset, size in entries:
        data = view[offset - start : offset - start + size]
        if len(data) == size and hash_bytes(data) == oid:
            got.good.append((oid, data))  # type: ignore[arg-type]
        else:
            got.bad.append(_corrupt(remote, oid, f"{remote.display(path)} at offset {offset}"))
    wanted = sum(e[2] for e in entries)
    if not got.bad and wanted >= _DENSE * len(blob):
        # keep the run as it came: one write, no per-object copies
        got.blob, got.good = blob, []
        got.rows = [(oid, offset - start, size) for oid, offset, size in entries]
    else:
        got.good = [(oid, bytes(data)) for oid, data in got.good]
    return got


def _fetch_loose(odb: ObjectDB, remote: Remote, oid: Oid) -> Fetched:
    path = remote.path(oid)
    tmp = odb.tmp_path()
    try:
        try:
            remote.get_file(path, tmp)
        except FileNotFoundError:
            return Fetched(gone={oid})
        if hash_file(tmp) != oid:
            return Fetched(bad=[_corrupt(remote, oid, remote.display(path))])
        size = tmp.stat().st_size
        odb.adopt(tmp, oid)
        return Fetched(installed=1, nbytes=size)
    finally:
        tmp.unlink(missing_ok=True)


def _corrupt(remote: Remote, oid: Oid, where: str) -> CorruptObjectError:
    return CorruptObjectError(
        f"Corrupt object {oid} at {where}: its bytes do not hash to its name.",
        hint="Push it again from a workspace whose `loom fsck` is clean.",
        oid=oid,
        path=where,
    )
