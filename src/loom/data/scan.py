"""What a path holds right now: its hash and, for a folder, its tree — stat first, hash last.

Only files whose ``(inode, mtime_ns, size)`` is not in the state index are
read; everything else is a dictionary lookup. A folder whose listing (names
and stat keys) is unchanged gets its tree hash from the index without
building the manifest. Nothing is stored in the cache.
"""

from __future__ import annotations

import marshal
import os
import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from loom._types import Oid
from loom.data import listing
from loom.data.progress import NO_PROGRESS, Advance, Progress
from loom.data.state import RACY_NS, StateIndex, StatKey, stat_key
from loom.data.walk import FileStat, broken_error, follow, walk_files
from loom.errors import UsageError
from loom.objects.hashing import hash_bytes, hash_file, hash_files
from loom.objects.tree import Tree, TreeEntry

# Hashes files the state index doesn't know: (paths, sizes, advance) -> oids.
Hasher = Callable[[Sequence[str], Sequence[int], Advance], list[Oid]]


class Snapshot:
    """The current content of one path: a file, or a folder (``stats``, lazy ``tree``)."""

    def __init__(
        self,
        kind: str,
        oid: Oid,
        size: int,
        *,
        key: StatKey | None = None,
        stats: dict[str, FileStat] | None = None,
        tree: Tree | None = None,
        build: Callable[[], Tree] | None = None,
        stale: list[str] | None = None,
        files: int | None = None,
        listing: str | None = None,
    ) -> None:
        self.kind = kind
        self.oid = oid
        self.size = size
        self.key = key  # file: its stat key when hashed
        self.stats = stats  # folder: relative path -> stat
        self._tree = tree
        self._build = build  # folder: builds the tree when it was not needed for the hash
        self.stale = stale or []  # temp files of a killed checkout
        self._files = files  # folder: its file count, when known without ``stats``
        self.listing = listing  # folder: the find listing it was known by (loom.data.listing)

    @property
    def tree(self) -> Tree | None:
        if self._tree is None and self._build is not None:
            self._tree = self._build()
        return self._tree

    @property
    def files(self) -> int | None:
        return len(self.stats) if self.stats is not None else self._files


def scan(
    path: Path,
    state: StateIndex,
    *,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
    hasher: Hasher | None = None,
    broken: dict[str, str] | None = None,
    listings: listing.Listings | None = None,
    walk: bool = False,
) -> Snapshot | None:
    """Hash ``path`` through the state index; None if it does not exist.

    ``hasher`` hashes a folder's files the index doesn't know (default: read and hash);
    ``loom add`` passes one that also stores them. Links that can't be followed raise
    a UsageError, or, with ``broken``, are recorded there (``""`` for ``path`` itself,
    which then gives None) and left out. With ``listings``, a folder unchanged since it
    was last hashed this way is known by find's listing (``loom.data.listing``), its
    ``stats`` left out (its tree is still built on demand); with ``walk`` too, it is
    walked all the same (the caller needs ``stats``) and its listing only recorded.
    """
    if not os.path.lexists(path):
        return None
    if path.is_symlink():
        st, why = follow(str(path))
        if st is None:
            if broken is None:
                raise broken_error(str(path), why or "")
            broken[""] = why or ""
            return None
    else:
        st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        hasher = hasher or _plain_hasher(jobs)
        if listings is not None and broken is None:
            return _scan_listed(path, state, hasher, progress, listings, walk)
        return _scan_dir(path, state, hasher, progress, broken)
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(
            f"{path} is not a regular file or folder (a FIFO, socket or device).",
            hint="Loom tracks files and folders; copy the data into a file and track that.",
            path=str(path),
        )
    key = stat_key(st)
    oid = state.get(key)
    if oid is None:
        oid = hash_file(path, st.st_size)
        state.put(key, oid)
    return Snapshot("file", oid, st.st_size, key=key)


def _fingerprint(stats: dict[str, FileStat]) -> str:
    # marshal is C-fast and deterministic for one Python version; a listing in another
    # order (or after a Python upgrade) only misses the memo and rebuilds the tree.
    return hash_bytes(marshal.dumps([tuple(f) for f in stats.values()]))


def _plain_hasher(jobs: int | None) -> Hasher:
    return lambda paths, sizes, advance: hash_files(paths, jobs=jobs, on_done=advance)


def _scan_dir(
    path: Path,
    state: StateIndex,
    hasher: Hasher,
    progress: Progress,
    broken: dict[str, str] | None = None,
) -> Snapshot:
    stale: list[str] = []
    stats = walk_files(path, stale, broken)
    size = sum(f.key[2] for f in stats.values())
    fingerprint = _fingerprint(stats)
    build = lambda: _tree(path, stats, state, hasher, progress)  # noqa: E731
    known = state.dir_hash(fingerprint)
    if known is not None:
        return Snapshot("dir", known, size, stats=stats, build=build, stale=stale)
    tree = build()
    newest = max((f.key[1] for f in stats.values()), default=0)
    if time.time_ns() - newest >= RACY_NS:
        state.put_dir(fingerprint, tree.oid)
    return Snapshot("dir", tree.oid, size, stats=stats, tree=tree, stale=stale)


def _scan_listed(
    path: Path,
    state: StateIndex,
    hasher: Hasher,
    progress: Progress,
    listings: listing.Listings,
    walk: bool = False,
) -> Snapshot:
    """``_scan_dir`` through find's listing: a known one answers (unless ``walk``); else walk,
    hash, and record it once ``listings.settle()`` confirms it did not change meanwhile.
    The first listing is complete before the walk starts: the two bracket it."""
    quick = listings.fingerprint(path)
    known = state.listing(quick) if quick and not walk else None
    if known is not None:
        oid, size, files = known

        def build() -> Tree:
            return _tree(path, walk_files(path), state, hasher, progress)

        return Snapshot("dir", oid, size, build=build, files=files, listing=quick)
    snap = _scan_dir(path, state, hasher, progress, None)
    stats = snap.stats or {}
    newest = max((f.key[1] for f in stats.values()), default=0)
    if quick and time.time_ns() - newest >= RACY_NS:
        files = len(stats)
        listings.confirm(path, quick, lambda: state.put_listing(quick, snap.oid, snap.size, files))
    return snap


def _tree(
    path: Path, stats: dict[str, FileStat], state: StateIndex, hasher: Hasher, progress: Progress
) -> Tree:
    known: dict[str, Oid] = {}
    todo: list[FileStat] = []
    for rel, fs in stats.items():
        oid = state.get(fs.key)
        if oid is None:
            todo.append(fs)
        else:
            known[rel] = oid
    if todo:
        advance = progress.task(f"Hashing {path.name}", len(todo))
        top = str(path)  # str paths: pathlib's `/` costs ~20 µs a file
        oids = hasher([f"{top}/{fs.rel}" for fs in todo], [fs.key[2] for fs in todo], advance)
        for fs, oid in zip(todo, oids, strict=True):
            known[fs.rel] = oid
        state.put_many((fs.key, oid) for fs, oid in zip(todo, oids, strict=True))
    entries = [TreeEntry(rel, known[rel], fs.key[2], fs.exec) for rel, fs in stats.items()]
    return Tree.from_entries(entries)
