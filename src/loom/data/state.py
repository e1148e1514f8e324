"""The state index: ``(inode, mtime_ns, size) -> hash`` in ``.loom/state.db``.

Like git's index it lets ``status`` and ``add`` trust a file whose stat did not
change, so an unchanged file is hashed once. The key holds no path, so a
renamed or hard-linked file is known too.

A file modified twice within one mtime tick could keep its stat while its
bytes change; an entry is therefore not saved while its mtime is younger
than ``RACY_NS`` (``loom.data.racy``) when the index is written; the next
command hashes those few files again.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from loom._types import Oid
from loom.data.racy import RACY_NS

StatKey = tuple[int, int, int]  # inode, mtime_ns, size
_POINT_LOOKUPS = 64
_SCHEMA = """
create table if not exists state (
    inode integer not null, mtime_ns integer not null, size integer not null,
    hash text not null, primary key (inode, mtime_ns, size)
) without rowid;
create table if not exists dirs (fingerprint text primary key, hash text not null) without rowid;
create table if not exists listings (
    fingerprint text primary key, hash text not null, size integer not null,
    files integer not null
) without rowid;
create table if not exists complete_trees (
    hash text primary key, packs text not null, loose text not null
) without rowid;
"""


def stat_key(st: os.stat_result) -> StatKey:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class StateIndex:
    """Load once, look up in memory, write back in one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._cache: dict[StatKey, Oid] | None = None
        self._pending: dict[StatKey, Oid] = {}
        self._lookups = 0

    def connection(self) -> sqlite3.Connection:
        """The open database, for the other small tables kept there (``loom.data.ledger``)."""
        return self._db()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("pragma journal_mode=wal")
            conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError:
            # The index only caches hashes: a damaged one is rebuilt, never trusted.
            conn.close()
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("pragma journal_mode=wal")
            conn.executescript(_SCHEMA)
        # WAL + synchronous=normal: a commit doesn't fsync. On ext4 an fsync flushes every
        # dirty file of the journal transaction, so after `loom add` of a 2 GiB file it
        # waited for the whole copy. A power cut may drop the last commits, never corrupt
        # the database, and the index only caches hashes that are recomputed if lost.
        conn.execute("pragma synchronous=normal")
        return conn

    def _load(self) -> dict[StatKey, Oid]:
        if self._cache is None:
            rows = self._db().execute("select inode, mtime_ns, size, hash from state")
            self._cache = {(i, m, s): h for i, m, s, h in rows}
        return self._cache

    def get(self, key: StatKey) -> Oid | None:
        found = self._pending.get(key)
        if found is not None:
            return found
        if self._cache is None and self._lookups < _POINT_LOOKUPS:
            # A few lookups (single files) are cheaper one by one than loading the table.
            self._lookups += 1
            row = (
                self._db()
                .execute(
                    "select hash from state where inode = ? and mtime_ns = ? and size = ?", key
                )
                .fetchone()
            )
            return row[0] if row else None
        return self._load().get(key)

    def put(self, key: StatKey, oid: Oid) -> None:
        self._pending[key] = oid

    def put_many(self, items: Iterable[tuple[StatKey, Oid]]) -> None:
        self._pending.update(items)

    def save(self) -> None:
        """Write new entries, except racily clean ones (mtime too close to now), as git does
        with entries whose mtime is not older than the index file."""
        now_ns = time.time_ns()
        rows = [(*k, v) for k, v in self._pending.items() if now_ns - k[1] >= RACY_NS]
        if not rows:
            self._pending.clear()
            return
        db = self._db()
        db.execute("begin immediate")
        try:
            db.executemany(
                "insert or replace into state values (?, ?, ?, ?)",
                rows,
            )
            db.execute("commit")
        except BaseException:
            db.execute("rollback")
            raise
        if self._cache is not None:
            self._cache.update({(i, m, z): h for i, m, z, h in rows})
        self._pending.clear()

    # A folder's tree hash by the fingerprint of its listing (names + stat keys), so an
    # unchanged folder skips building and hashing its manifest.
    def dir_hash(self, fingerprint: str) -> Oid | None:
        row = self._db().execute("select hash from dirs where fingerprint = ?", (fingerprint,))
        found = row.fetchone()
        return found[0] if found else None

    def put_dir(self, fingerprint: str, oid: Oid) -> None:
        self._db().execute("insert or replace into dirs values (?, ?)", (fingerprint, oid))

    # The same by find's listing (``loom.data.listing``), with what a folder's lock entry
    # needs besides its hash: its size and file count.
    def listing(self, fingerprint: str) -> tuple[Oid, int, int] | None:
        row = self._db().execute(
            "select hash, size, files from listings where fingerprint = ?", (fingerprint,)
        )
        found = row.fetchone()
        return (found[0], found[1], found[2]) if found else None

    def put_listing(self, fingerprint: str, oid: Oid, size: int, files: int) -> None:
        self._db().execute(
            "insert or replace into listings values (?, ?, ?, ?)", (fingerprint, oid, size, files)
        )

    # Trees whose every object was seen in the cache, with where they were then: the ids of
    # the packs that held them and the loose ones. The cache can lose objects behind Loom's
    # back (a deleted cache or packs/ folder, a repack), so a reader trusts a memo only while
    # those are all still there (ObjectDB.still_holds: one listdir and a stat per loose one).
    # gc and fsck forget them all.
    def complete_where(self, oid: Oid) -> tuple[list[str], list[Oid]] | None:
        row = self._db().execute("select packs, loose from complete_trees where hash = ?", (oid,))
        found = row.fetchone()
        if found is None:
            return None
        return [p for p in found[0].split(",") if p], [o for o in found[1].split(",") if o]

    def put_complete(self, oid: Oid, packs: Iterable[str], loose: Iterable[Oid]) -> None:
        self._db().execute(
            "insert or replace into complete_trees values (?, ?, ?)",
            (oid, ",".join(sorted(packs)), ",".join(loose)),
        )

    def forget_complete(self) -> None:
        self._db().execute("delete from complete_trees")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
