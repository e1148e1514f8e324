"""What a dep or out holds now: its hash through the state index, each path once per command.

An unchanged file costs a stat and a lookup (``loom.data.scan``); an unchanged
folder GNU find's listing of it and one lookup (``loom.data.listing``). A path a
stage has just written is forgotten and hashed again when next asked.

    >>> with Versions(ws) as v:                     # doctest: +SKIP
    ...     v.get("data/raw").hash
"""

from __future__ import annotations

from loom.data.listing import Listings
from loom.data.scan import Snapshot, scan
from loom.data.state import StateIndex
from loom.data.workspace import Workspace
from loom.pipelines.lock import Entry
from loom.pipelines.noop import Seen


class Versions:
    def __init__(
        self, ws: Workspace, listings: Listings | None = None, seen: Seen | None = None
    ) -> None:
        self.ws = ws
        self.seen = seen or Seen()  # what each path was found as, for a no-op's memo
        self.state = StateIndex(ws.loom_dir / "state.db")
        self._own = listings is None
        self.listings = listings or Listings(ws.tmp)
        self._memo: dict[str, Entry | None] = {}

    def __enter__(self) -> Versions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, rel: str) -> Entry | None:
        """The version of ``rel`` now, or None when there is nothing there."""
        if rel not in self._memo:
            snap = scan(self.ws.path_of(rel), self.state, listings=self.listings)
            if snap is None or snap.kind == "file":
                self.seen.key(rel, snap.key if snap is not None else None)
            else:
                self.seen.folder(rel, snap.listing)
            self._memo[rel] = entry_of(rel, snap)
        return self._memo[rel]

    def put(self, rel: str, snap: Snapshot | None) -> Entry | None:
        """Remember what was just stored for ``rel`` (no second walk)."""
        self._memo[rel] = entry_of(rel, snap)
        return self._memo[rel]

    def forget(self, rels: list[str]) -> None:
        """A stage wrote (or will write) these paths: hash them again when asked."""
        for rel in rels:
            self._memo.pop(rel, None)

    def save(self) -> None:
        self.state.save()

    def close(self) -> None:
        try:
            self.listings.settle()
            self.state.save()
        finally:
            self.state.close()
            if self._own:
                self.listings.close()


def entry_of(rel: str, snap: Snapshot | None) -> Entry | None:
    if snap is None:
        return None
    return Entry(rel, snap.oid, snap.size, snap.kind, snap.files)
