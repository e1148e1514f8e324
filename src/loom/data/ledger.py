"""What a workspace remembers beyond its stat cache, in ``.loom/state.db``.

- ``versions``: every pointer hash ``add`` wrote, with its path, so ``status``
  can say which versions in the cache no remote has yet.
- ``remote_has``: (remote, hash) for versions a remote is known to hold:
  marked by ``push`` once all of a version's objects are there, and by
  ``fetch`` for versions that came from there.
- ``remotes_seen``: the remotes this workspace's config named, and when each
  was last the default, so an old commit whose config lacks the remote still
  finds it (``loom.data.remotes.resolve`` falls back to it, and says so).

It is a memo, not the truth: nothing is lost if ``state.db`` goes (the
warnings it feeds just stay quiet until the next add or push).

    >>> with Ledger.open(ws) as ledger:
    ...     ledger.add_versions([("data/raw", oid)])
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from loom._types import Oid
from loom.data.state import StateIndex
from loom.data.workspace import Workspace

_SCHEMA = """
create table if not exists versions (
    path text not null, hash text not null, added_ns integer not null,
    primary key (path, hash)
) without rowid;
create table if not exists remote_has (
    remote text not null, hash text not null, primary key (remote, hash)
) without rowid;
create table if not exists remotes_seen (
    name text primary key, url text not null, endpoint_url text,
    seen_ns integer not null, default_ns integer
) without rowid;
"""
# Cost on status's hot path: a scan of `versions` (a row per version added here) with one
# primary-key lookup in `remote_has` each.
NOT_ON_REMOTE = (
    "select path, hash from versions v where not exists "
    "(select 1 from remote_has r where r.remote = ? and r.hash = v.hash) "
    "order by added_ns desc"
)


@dataclass(frozen=True)
class SeenRemote:
    name: str
    url: str
    endpoint_url: str | None


class Ledger:
    """Small tables next to the state index; every method is one short transaction.

    Best effort, as befits a memo: where ``state.db`` can't be opened or written (a
    read-only workspace), reads find nothing and writes are dropped; no command fails.
    """

    def __init__(self, conn: sqlite3.Connection | None) -> None:
        self.db = conn
        if conn is not None:
            try:
                conn.executescript(_SCHEMA)
            except sqlite3.Error:
                self.db = None

    @classmethod
    @contextmanager
    def open(cls, ws: Workspace) -> Iterator[Ledger]:
        state = StateIndex(ws.loom_dir / "state.db")
        try:
            try:
                conn: sqlite3.Connection | None = state.connection()
            except (sqlite3.Error, OSError):
                conn = None
            yield cls(conn)
        finally:
            state.close()

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        if self.db is None:
            return []
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error:
            return []

    def _write(self, sql: str, rows: Iterable[tuple]) -> None:
        rows = list(rows)
        if not rows or self.db is None:
            return
        try:
            self.db.execute("begin immediate")
            try:
                self.db.executemany(sql, rows)
                self.db.execute("commit")
            except BaseException:
                self.db.execute("rollback")
                raise
        except sqlite3.Error:
            pass  # read-only or damaged: the memo stays as it was

    # --- versions and which remote holds them ---
    def add_versions(self, items: Iterable[tuple[str, Oid]]) -> None:
        """Record ``(path, hash)`` pairs that ``add`` just wrote."""
        now = time.time_ns()
        self._write(
            "insert or replace into versions values (?, ?, ?)",
            ((path, oid, now) for path, oid in items),
        )

    def mark_on_remote(self, remote: str, oids: Iterable[Oid]) -> None:
        self._write("insert or ignore into remote_has values (?, ?)", ((remote, o) for o in oids))

    def not_on_remote(self, remote: str) -> list[tuple[str, Oid]]:
        """``(path, hash)`` of recorded versions not known to be on ``remote``, newest first.

        One indexed query over a table with a row per version ever added here.
        """
        return [(p, h) for p, h in self._read(NOT_ON_REMOTE, (remote,))]

    def forget_versions(self, oids: Iterable[Oid]) -> None:
        """Drop versions whose objects left the cache (gc), and what remotes were said to hold."""
        rows = [(o,) for o in oids]
        self._write("delete from versions where hash = ?", rows)
        self._write("delete from remote_has where hash = ?", rows)

    def version_hashes(self) -> list[Oid]:
        return [h for (h,) in self._read("select hash from versions")]

    # --- remotes seen in this workspace's config ---
    def remember_remotes(self, remotes: Iterable[SeenRemote], default: str | None) -> None:
        """Record the configured remotes; ``default`` becomes the most recent default.

        Writes only what changed, so resolving the same config again costs one read.
        """
        rows = self._read("select name, url, endpoint_url, default_ns from remotes_seen")
        known = {n: (u, e, d) for n, u, e, d in rows}
        latest = self.latest_default()
        now = time.time_ns()
        rows = []
        for r in remotes:
            old = known.get(r.name)
            becomes_default = r.name == default and (latest is None or latest.name != r.name)
            if old is None or old[:2] != (r.url, r.endpoint_url) or becomes_default:
                old_default = old[2] if old else None
                rows.append(
                    (r.name, r.url, r.endpoint_url, now, now if becomes_default else old_default)
                )
        self._write("insert or replace into remotes_seen values (?, ?, ?, ?, ?)", rows)

    def seen(self, name: str) -> SeenRemote | None:
        rows = self._read(
            "select name, url, endpoint_url from remotes_seen where name = ?", (name,)
        )
        return SeenRemote(*rows[0]) if rows else None

    def latest_default(self) -> SeenRemote | None:
        rows = self._read(
            "select name, url, endpoint_url from remotes_seen where default_ns is not null "
            "order by default_ns desc limit 1"
        )
        return SeenRemote(*rows[0]) if rows else None
