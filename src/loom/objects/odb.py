"""The object database: oids to bytes, as loose files and packs.

Loose objects live at ``<root>/blake3/ab/cdef…``; small objects added in bulk
go into pack files under ``<root>/packs/`` (see ``loom.objects.pack``).
Objects are immutable and read-only once written. Every write goes to a temp
file on the same filesystem, is fsynced and renamed into place, so a process
killed at any moment leaves either no object or a whole one, never a torn one.

    >>> odb = ObjectDB(tmp / ".loom" / "cache")            # doctest: +SKIP
    >>> oid = odb.add_bytes(b"hello")                       # doctest: +SKIP
    >>> odb.read(oid)                                       # doctest: +SKIP
    b'hello'
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from loom import atomic
from loom._types import Oid, StrPath
from loom.errors import CorruptObjectError, MissingObjectError
from loom.objects import links
from loom.objects.hashing import ALGO, default_jobs, hash_bytes, hash_file, is_oid
from loom.objects.pack import PACKS_DIR
from loom.objects.packset import Pack, PackSet
from loom.objects.refs import REFS_DIR, Refs

copy_file = links.copy_file  # kept: part of this module's original API

# Objects below this size are packed (see docs/objects.md, "Pack design").
PACK_THRESHOLD = 64 * 1024
# A pack is rolled over at this size so that gc's repack rewrites a bounded file.
PACK_MAX = 64 * 1024 * 1024
_BATCH = 64  # files read per thread task: amortizes executor overhead per file

OnDone = Callable[[int], None] | None


class ObjectDB:
    """Loose objects and packs on a local filesystem."""

    def __init__(self, root: StrPath, tmp_dir: StrPath | None = None) -> None:
        self.root = Path(root)
        self.objects = self.root / ALGO
        self.tmp = Path(tmp_dir) if tmp_dir else self.root / "tmp"
        self.packs = PackSet(self.root / PACKS_DIR)

    def __repr__(self) -> str:
        return f"ObjectDB({str(self.root)!r})"

    def close(self) -> None:
        self.packs.close()

    @property
    def refs(self) -> Refs:
        """What things outside the store (tracked runs) reference; gc keeps all of it."""
        return Refs(self.root / REFS_DIR)

    # -- lookups -------------------------------------------------------------------
    def path(self, oid: Oid) -> Path:
        return self.objects / oid[:2] / oid[2:]

    def exists(self, oid: Oid) -> bool:
        # loose first: one stat, where loading the pack indexes costs 0.1 s per 20k objects
        # (trees are stored loose, and `status` asks only about them)
        if os.path.exists(f"{self.objects}/{oid[:2]}/{oid[2:]}"):
            return True
        self.packs.refresh()
        return oid in self.packs

    def missing(self, oids: Iterable[Oid]) -> set[Oid]:
        """The oids the store lacks: one index refresh, then a dict hit or a stat each."""
        self.packs.refresh()
        packs = self.packs
        rest = [o for o in oids if o not in packs]
        try:
            prefixes = set(os.listdir(self.objects)) if rest else set()
        except FileNotFoundError:
            return set(rest)
        # str paths, not Path: pathlib costs ~20 µs per oid, a third of a 20k-file add
        base = str(self.objects)
        exists = os.path.exists
        return {o for o in rest if o[:2] not in prefixes or not exists(f"{base}/{o[:2]}/{o[2:]}")}

    def locate(self, oids: Iterable[Oid]) -> tuple[set[str], list[Oid]] | None:
        """Where ``oids`` are: the ids of the packs holding them and the loose ones; None if
        one is missing. With :meth:`still_holds` it lets a caller remember "all present"
        and check it later without loading a pack index."""
        self.packs.refresh()
        packs: set[str] = set()
        loose: list[Oid] = []
        for oid in oids:
            hit = self.packs.lookup(oid)
            if hit is None:
                loose.append(oid)
            else:
                packs.add(hit[0].id)
        if loose and self.missing(loose):
            return None
        return packs, loose

    def still_holds(
        self, packs: Iterable[str], loose: Iterable[Oid], listed: set[str] | None = None
    ) -> bool:
        """Whether what :meth:`locate` found is all still there: one listdir of ``packs/``
        (or ``listed``, from ``packs.listed()``) and a stat per loose object."""
        present = self.packs.listed() if listed is None else listed
        if not present.issuperset(packs):
            return False
        base, exists = str(self.objects), os.path.exists
        return all(exists(f"{base}/{o[:2]}/{o[2:]}") for o in loose)

    def is_packed(self, oid: Oid) -> bool:
        self.packs.refresh()
        return oid in self.packs

    def size(self, oid: Oid) -> int:
        self.packs.refresh()
        hit = self.packs.lookup(oid)
        return hit[2] if hit is not None else self._loose_size(oid)

    def sizes(self, oids: Iterable[Oid]) -> dict[Oid, int]:
        """Sizes of many objects with one index refresh; MissingObjectError if one is absent."""
        self.packs.refresh()
        out = {}
        for oid in oids:
            hit = self.packs.lookup(oid)
            out[oid] = hit[2] if hit is not None else self._loose_size(oid)
        return out

    def _loose_size(self, oid: Oid) -> int:
        try:
            return os.stat(self.path(oid)).st_size
        except FileNotFoundError:
            raise self._missing(oid) from None

    def iter_oids(self) -> Iterator[Oid]:
        """Every oid, loose and packed, each once."""
        seen: set[Oid] = set()
        for oid in self.iter_loose():
            seen.add(oid)
            yield oid
        self.packs.refresh()
        for oid in self.packs.oids():
            if oid not in seen:
                yield oid

    def iter_loose(self) -> Iterator[Oid]:
        if not self.objects.is_dir():
            return
        for prefix in os.scandir(self.objects):
            if not prefix.is_dir() or len(prefix.name) != 2:
                continue
            for entry in os.scandir(prefix.path):
                oid = prefix.name + entry.name
                if is_oid(oid):
                    yield oid

    # -- reading -------------------------------------------------------------------
    def open(self, oid: Oid) -> BinaryIO:
        """A binary file object; packed objects are verified before they are handed out."""
        data = self.packs.read(oid)
        if data is not None:
            return io.BytesIO(data)
        try:
            return open(self.path(oid), "rb")
        except FileNotFoundError:
            raise self._missing(oid) from None

    def read(self, oid: Oid) -> bytes:
        """The object's bytes, verified against its name (CorruptObjectError if not)."""
        data = self.packs.read(oid)
        if data is not None:
            return data
        with self.open(oid) as f:
            data = f.read()
        if hash_bytes(data) != oid:
            raise self._corrupt(oid, self.path(oid), hash_bytes(data))
        return data

    def read_many(self, oids: Iterable[Oid]) -> Iterator[tuple[Oid, bytes]]:
        """Verified ``(oid, bytes)`` pairs, packed ones read a run of neighbours at a time.

        The order is the store's, not the caller's.
        """
        oids = list(oids)
        self.packs.refresh()
        yield from self.packs.read_many(oids)
        for oid in oids:
            if oid not in self.packs:
                yield oid, self.read(oid)

    def verify(self, oid: Oid) -> None:
        """CorruptObjectError (naming the file) if the object's bytes don't hash to its name."""
        if self.packs.read(oid) is not None:
            return
        p = self.path(oid)
        try:
            actual = hash_file(p)
        except FileNotFoundError:
            raise self._missing(oid) from None
        if actual != oid:
            raise self._corrupt(oid, p, actual)

    def write_to(self, oid: Oid, dest: StrPath, mode: str = "copy", *, verify: bool = True) -> None:
        """Materialize the object at ``dest`` (its parent exists, it does not).

        ``mode`` is one of reflink (falls back to copy), copy, hardlink, symlink.
        Hardlink and symlink need a loose object: a packed one is unpacked first.
        LinkError means the mode is impossible here; the caller tries the next.
        Packed objects are always verified; loose ones when ``verify`` is true.
        """
        links.check_mode(mode)
        dest = Path(dest)
        data = self.packs.read(oid)
        if data is not None and mode in ("reflink", "copy"):
            links.place_bytes(data, dest)
            return
        if data is not None:
            self.add_bytes(data, oid, loose=True)
        src = self.path(oid)
        if not src.exists():
            raise self._missing(oid)
        if mode in ("hardlink", "symlink"):
            # the loose file itself is what gets linked, even when a pack holds a good copy
            if verify and (actual := hash_file(src)) != oid:
                raise self._corrupt(oid, src, actual)
            links.place_link(src, dest, mode)
            return
        tmp = links.place_copy(src, dest, mode)
        try:
            if verify and (actual := hash_file(tmp)) != oid:
                raise self._corrupt(oid, src, actual)
            atomic.install(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    # -- writing -------------------------------------------------------------------
    def add_bytes(self, data: bytes, oid: Oid | None = None, *, loose: bool = False) -> Oid:
        oid = oid or hash_bytes(data)
        if (loose and self.path(oid).exists()) or (not loose and self.exists(oid)):
            self.touch([oid])
            return oid
        dest = self.path(oid)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(dest, data, fsync=True, readonly=True, tmp_dir=self.tmp)
        return oid

    def add_file(self, src: StrPath, oid: Oid | None = None, *, verify: bool = False) -> Oid:
        """Copy ``src`` into the store as a loose object (a reflink where the filesystem can).

        With ``verify`` the copy is hashed; without, a size or mtime change of
        ``src`` during the copy is still caught (cheap, and catches a writer).

        No fsync here, unlike packs and ``add_bytes``: these objects come from a
        file the user still has, an fsync of a 2 GiB object waits seconds for the
        disk, and the rename after the full write already makes a kill safe. A
        power cut within the kernel's writeback delay (~30 s) can leave a torn
        object, which every reader detects (checkout, push and fsck verify loose
        objects, and ``loom fsck`` names it), so it is never silently used.
        """
        oid = oid or hash_file(src)
        if self.exists(oid):
            if not self.torn(oid, os.stat(src).st_size):
                self.touch([oid])
                return oid
            self._remove_loose(oid)  # cut short by a power loss: store it again
        tmp = self.tmp_path()
        try:
            before = os.stat(src)
            links.copy_file(src, tmp)  # reflink, else copy_file_range/sendfile: in the kernel
            after = os.stat(src)
            if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
                raise _changed(src)
            if verify and hash_file(tmp) != oid:
                raise _changed(src)
            self._install(tmp, oid)
        finally:
            tmp.unlink(missing_ok=True)
        return oid

    def torn(self, oid: Oid, size: int) -> bool:
        """True if the loose copy of ``oid`` is not ``size`` bytes long.

        add_file doesn't fsync (see there), so a power cut can leave a loose
        object cut short; one stat finds that, and adding the file again then
        replaces it instead of trusting the name. Other damage is caught by the
        readers that hash what they read, and by ``loom fsck``.
        """
        try:
            return self.path(oid).stat().st_size != size
        except FileNotFoundError:
            return False  # packed or absent: nothing loose to be torn

    def touch(self, oids: Iterable[Oid]) -> None:
        """Mark stored objects as just used, so gc's grace period covers them again.

        Call it for objects a new pointer references but that were already
        stored: a concurrent gc then keeps them. Loose objects get a new mtime;
        for packed ones, their pack's index does (gc judges a pack by it).
        """
        self.packs.refresh()
        idx_paths = set()
        for oid in oids:
            hit = self.packs.lookup(oid)
            if hit is not None:
                idx_paths.add(hit[0].idx_path)
            else:
                _utime(self.path(oid))
        for p in idx_paths:
            _utime(p)

    def add_files(
        self,
        items: Sequence[tuple[StrPath, Oid, int]],
        *,
        jobs: int | None = None,
        on_done: OnDone = None,
    ) -> None:
        """Add already-hashed ``(path, oid, size)`` files; what the store has is skipped.

        Objects under PACK_THRESHOLD go into new pack files (one per PACK_MAX
        bytes) and are re-hashed as they are read, so a file that changed since
        it was hashed raises CorruptObjectError instead of entering the store
        under a wrong name. Bigger objects are stored loose, in parallel.
        """
        from loom.objects.bulk import add_files

        add_files(self, items, jobs=jobs or default_jobs(), on_done=on_done)

    def adopt(self, tmp: Path, oid: Oid) -> None:
        """Install a temp file from ``self.tmp`` (already verified by the caller) as ``oid``."""
        self._install(tmp, oid)

    def write_pack(self, objects: Iterable[tuple[Oid, bytes]]) -> None:
        """Store already-verified ``(oid, bytes)`` pairs as one new pack."""
        self.packs.write(objects, self.tmp)

    def remove(self, oid: Oid) -> None:
        """Delete one object; a packed one is removed by rewriting its pack without it."""
        self.remove_many({oid})

    def remove_many(self, oids: set[Oid]) -> None:
        for oid in oids:
            self._remove_loose(oid)
        self.packs.refresh()
        for pack in list(self.packs.packs.values()):
            if any(e.oid in oids for e in pack.entries):
                self.repack(pack, keep=lambda o: o not in oids)

    def repack(self, pack: Pack, keep: Callable[[Oid], bool]) -> None:
        """Rewrite ``pack`` with only the objects ``keep`` accepts, then drop the old one.

        The new pack is complete before the old index goes, so a kill in between
        leaves both (harmless duplicates), never neither.
        """
        kept = [e.oid for e in pack.entries if keep(e.oid)]
        if kept:
            self.packs.write(((oid, self.read(oid)) for oid in kept), self.tmp)
        self.packs.drop(pack)

    def fsck(self, *, jobs: int | None = None, on_done: OnDone = None) -> list[CorruptObjectError]:
        """Verify every object (loose and packed) and every pack index; returns the problems."""
        from loom.objects.fsck import fsck

        return fsck(self, jobs=jobs or default_jobs(), on_done=on_done)

    # -- internals -----------------------------------------------------------------
    def _remove_loose(self, oid: Oid) -> None:
        p = self.path(oid)
        try:
            os.chmod(p, stat.S_IWUSR | stat.S_IRUSR)
            p.unlink()
        except FileNotFoundError:
            pass

    def tmp_path(self) -> Path:
        """A fresh temp file name in the store's temp folder (created if needed)."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        return Path(atomic.temp_path(self.tmp))

    def _install(self, tmp: Path, oid: Oid) -> Path:
        dest = self.path(oid)
        dest.parent.mkdir(parents=True, exist_ok=True)
        atomic.install(tmp, dest, readonly=True)
        return dest

    def _missing(self, oid: Oid) -> MissingObjectError:
        return MissingObjectError(
            f"Object {oid} is not in the cache at {self.root}.",
            hint="Run `loom pull` to fetch it from the remote.",
            oid=oid,
        )

    def _corrupt(self, oid: Oid, path: Path, actual: Oid) -> CorruptObjectError:
        return CorruptObjectError(
            f"Corrupt object {path}: its bytes hash to {actual}, not {oid}.",
            hint="Run `loom fsck` to list every bad object, then `loom pull` to refetch.",
            oid=oid,
            path=str(path),
        )


def _utime(path: Path) -> None:
    try:
        os.utime(path)
    except (FileNotFoundError, PermissionError):
        pass  # gone, or a shared cache owned by someone else: nothing to protect here


def _changed(src: StrPath) -> CorruptObjectError:
    return CorruptObjectError(
        f"{src} changed while it was being added.",
        hint="Run the command again once the file is no longer being written.",
        path=str(src),
    )
