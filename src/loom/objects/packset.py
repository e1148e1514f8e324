"""The packs of one local object store: loaded indexes, verified reads, atomic writes.

Indexes are loaded once and reloaded only when the ``packs/`` directory
changes (one ``stat`` per lookup batch), so ``exists``/``missing`` over tens of
thousands of oids cost a dict lookup each.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from loom import atomic
from loom._types import Oid
from loom.errors import CorruptObjectError
from loom.objects.hashing import hash_bytes
from loom.objects.pack import (
    PACK_MAGIC,
    PackEntry,
    decode_index,
    encode_index,
    idx_name,
    index_pack_id,
    pack_id_of,
    pack_name,
)

_WRITEV_BATCH = 256  # well under IOV_MAX (1024)


@dataclass
class Pack:
    id: str
    pack_path: Path
    idx_path: Path
    entries: list[PackEntry] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)


class PackSet:
    """Every valid pack under ``directory``; corrupt indexes are set aside in ``bad``."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.packs: dict[str, Pack] = {}
        self.bad: dict[str, CorruptObjectError] = {}
        self._map: dict[Oid, tuple[Pack, int, int]] = {}
        self._stamp: int | None = None
        self._fds: dict[str, int] = {}
        self._lock = threading.Lock()

    # -- loading -----------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        try:
            stamp = os.stat(self.dir).st_mtime_ns
        except FileNotFoundError:
            stamp = 0
        if stamp == self._stamp and not force:
            return
        with self._lock:
            self._reload(stamp)

    def listed(self) -> set[str]:
        """Ids of the packs whose pack and index files are both there: one listdir."""
        try:
            names = set(os.listdir(self.dir))
        except FileNotFoundError:
            return set()
        return {pid for n in names if (pid := pack_id_of(n)) and pack_name(pid) in names}

    def _reload(self, stamp: int) -> None:
        ids = self.listed() if stamp else set()
        for gone in set(self.packs) - ids:
            del self.packs[gone]
            self._close_fd(gone)
        for gone in set(self.bad) - ids:
            del self.bad[gone]
        for pid in ids - set(self.packs):  # bad ones too: a good copy may have replaced one
            self._load(pid)
        self._map = {e.oid: (p, e.offset, e.size) for p in self.packs.values() for e in p.entries}
        self._stamp = stamp

    def _load(self, pid: str) -> None:
        idx_path = self.dir / idx_name(pid)
        try:
            data = idx_path.read_bytes()
            entries = decode_index(data, str(idx_path))
            if index_pack_id(data) != pid:
                raise CorruptObjectError(
                    f"Corrupt pack index {idx_path}: its entries do not match its name.",
                    hint="Run `loom fsck`; the objects it lists are refetched by `loom pull`.",
                    path=str(idx_path),
                )
        except FileNotFoundError:
            return  # removed by a concurrent gc between listdir and read
        except CorruptObjectError as exc:
            self.bad[pid] = exc
            return
        self.bad.pop(pid, None)
        self.packs[pid] = Pack(pid, self.dir / pack_name(pid), idx_path, entries)

    # -- lookups -----------------------------------------------------------------
    def lookup(self, oid: Oid) -> tuple[Pack, int, int] | None:
        return self._map.get(oid)

    def __contains__(self, oid: Oid) -> bool:
        return oid in self._map

    def oids(self) -> list[Oid]:
        return list(self._map)

    def read(self, oid: Oid) -> bytes | None:
        """The object's bytes, verified against its name; None if no pack holds it."""
        self.refresh()
        hit = self._map.get(oid)
        if hit is None:
            return None
        pack, offset, size = hit
        try:
            data = os.pread(self._fd(pack), size, offset)
        except FileNotFoundError:
            self.refresh(force=True)  # a concurrent gc repacked it; look again once
            hit = self._map.get(oid)
            if hit is None:
                return None
            pack, offset, size = hit
            data = os.pread(self._fd(pack), size, offset)
        if len(data) != size or hash_bytes(data) != oid:
            raise corrupt_in_pack(oid, pack, offset)
        return data

    def read_many(self, oids: Iterable[Oid]) -> Iterator[tuple[Oid, bytes]]:
        """Verified ``(oid, bytes)`` of the packed ``oids``, one pread per run of neighbours."""
        self.refresh()
        by_pack: dict[str, list[tuple[int, int, Oid]]] = {}
        for oid in oids:
            if (hit := self._map.get(oid)) is not None:
                by_pack.setdefault(hit[0].id, []).append((hit[1], hit[2], oid))
        for pid, rows in by_pack.items():
            pack = self.packs[pid]
            try:
                fd = self._fd(pack)
            except FileNotFoundError:  # repacked by a concurrent gc: one by one, looked up anew
                for _, _, oid in rows:
                    if (data := self.read(oid)) is not None:
                        yield oid, data
                continue
            for run in _runs(sorted(rows)):
                start = run[0][0]
                blob = os.pread(fd, run[-1][0] + run[-1][1] - start, start)
                for offset, size, oid in run:
                    data = blob[offset - start : offset - start + size]
                    if len(data) != size or hash_bytes(data) != oid:
                        raise corrupt_in_pack(oid, pack, offset)
                    yield oid, data

    def _fd(self, pack: Pack) -> int:
        fd = self._fds.get(pack.id)
        if fd is None:
            with self._lock:
                fd = self._fds.get(pack.id)
                if fd is None:
                    fd = self._fds[pack.id] = os.open(pack.pack_path, os.O_RDONLY)
        return fd

    def _close_fd(self, pid: str) -> None:
        fd = self._fds.pop(pid, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        with self._lock:
            for pid in list(self._fds):
                self._close_fd(pid)

    def __del__(self) -> None:  # raw fds are not closed by the garbage collector
        try:
            for fd in self._fds.values():
                os.close(fd)
        except (AttributeError, OSError):
            pass

    # -- writing -----------------------------------------------------------------
    def write(self, objects: Iterable[tuple[Oid, bytes]], tmp_dir: Path) -> Pack | None:
        """Stream objects into one new pack; the index goes last and makes it visible."""
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(atomic.temp_path(tmp_dir))
        rows: list[tuple[Oid, int, int]] = []
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                _write_objects(fd, objects, rows)
                os.fsync(fd)
            finally:
                os.close(fd)
            if not rows:
                return None
            return self._commit(tmp, rows, tmp_dir)
        finally:
            tmp.unlink(missing_ok=True)

    def _commit(self, tmp: Path, rows: list[tuple[Oid, int, int]], tmp_dir: Path) -> Pack:
        """Rename the written pack into place, then write its index: now it is visible."""
        idx, pid = encode_index(rows)
        atomic.install(tmp, self.dir / pack_name(pid), readonly=True)
        atomic.write_bytes(
            self.dir / idx_name(pid), idx, fsync=True, readonly=True, tmp_dir=tmp_dir
        )
        atomic.fsync_dir(self.dir)
        pack = Pack(pid, self.dir / pack_name(pid), self.dir / idx_name(pid))
        pack.entries = [PackEntry(o, off, n) for o, off, n in sorted(rows)]
        with self._lock:
            self.packs[pid] = pack
            self.bad.pop(pid, None)
            self._map.update((e.oid, (pack, e.offset, e.size)) for e in pack.entries)
        return pack

    def write_raw(
        self, parts: list[bytes], rows: list[tuple[Oid, int, int]], tmp_dir: Path
    ) -> Pack:
        """Write a pack from ready bytes (``parts`` start with PACK_MAGIC) and its index rows.

        The caller has verified every object; bytes no row points at are allowed
        (pull keeps a fetched run whole even if it holds a few unwanted objects).
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(atomic.temp_path(tmp_dir))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                _writev_all(fd, list(parts))
                os.fsync(fd)
            finally:
                os.close(fd)
            return self._commit(tmp, rows, tmp_dir)
        finally:
            tmp.unlink(missing_ok=True)

    def drop(self, pack: Pack) -> None:
        """Delete a pack: index first (the pack turns invisible), then its data."""
        with self._lock:
            self._close_fd(pack.id)
            self.packs.pop(pack.id, None)
        for p in (pack.idx_path, pack.pack_path):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        self.refresh(force=True)


def corrupt_in_pack(oid: Oid, pack: Pack, offset: int) -> CorruptObjectError:
    return CorruptObjectError(
        f"Corrupt object {oid} in pack {pack.pack_path} at offset {offset}: "
        "its bytes do not hash to its name.",
        hint="Run `loom fsck` to list every bad object, then `loom pull` to refetch.",
        oid=oid,
        path=str(pack.pack_path),
    )


def _runs(rows: list[tuple[int, int, Oid]], gap: int = 64 * 1024, cap: int = 8 << 20):
    """Group offset-sorted rows whose bytes nearly touch, up to ``cap`` bytes per read."""
    run: list[tuple[int, int, Oid]] = []
    for row in rows:
        if run and (row[0] - (run[-1][0] + run[-1][1]) > gap or row[0] + row[1] - run[0][0] > cap):
            yield run
            run = []
        run.append(row)
    if run:
        yield run


def _write_objects(fd: int, objects: Iterable[tuple[Oid, bytes]], rows: list) -> None:
    """Append objects (skipping repeats) with one writev per batch: no copy into a buffer."""
    seen: set[Oid] = set()
    offset = os.write(fd, PACK_MAGIC)
    batch: list[bytes] = []
    for oid, data in objects:
        if oid in seen:
            continue
        seen.add(oid)
        rows.append((oid, offset, len(data)))
        batch.append(data)
        offset += len(data)
        if len(batch) >= _WRITEV_BATCH:
            _writev_all(fd, batch)
            batch = []
    _writev_all(fd, batch)


def _writev_all(fd: int, parts: list[bytes]) -> None:
    while parts:
        n = os.writev(fd, parts)
        i = 0
        while i < len(parts) and n >= len(parts[i]):
            n -= len(parts[i])
            i += 1
        parts = parts[i:]
        if parts and n:  # a short write inside one part: resume mid-part
            parts[0] = parts[0][n:]
