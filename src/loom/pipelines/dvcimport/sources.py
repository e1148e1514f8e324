"""Bytes that match what DVC recorded, from the workspace or else from DVC's cache.

For each path DVC hashed (a ``.dvc`` file's data, a stage's dep or out) this
finds bytes whose md5 is the one DVC recorded and gives Loom's hash of the
same bytes: the workspace's content when it matches (hashed through the state
index, so the first ``loom status`` after the import reads nothing again),
else DVC's cached copy, verified as it is read. ``store`` also puts the bytes
in the Loom cache. Nothing here writes to the workspace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from loom._types import Oid
from loom.data.add import store_content
from loom.data.scan import scan
from loom.data.state import StateIndex
from loom.data.workspace import Workspace
from loom.errors import LoomError
from loom.objects.tree import Tree, TreeEntry
from loom.pipelines.dvcimport.dvccache import (
    DvcCache,
    DvcHash,
    file_hashes,
    hash_folder,
    matches,
)


@dataclass(frozen=True)
class Found:
    """Loom's view of bytes that match DVC's md5; ``source`` is workspace or dvc-cache."""

    rel: str
    oid: Oid
    size: int
    kind: str  # file | dir
    files: int | None
    source: str


class Sources:
    """Verifies paths against DVC's md5s; one per import (it holds the state index)."""

    def __init__(self, ws: Workspace, dvc: DvcCache, state: StateIndex) -> None:
        self.ws, self.dvc, self.state = ws, dvc, state

    def find(self, rel: str, want: DvcHash, *, store: bool) -> Found | str:
        """Found bytes, or why none match (a sentence for the report)."""
        full = self.ws.path_of(rel)
        try:
            if self._workspace_matches(full, want):
                return self._from_workspace(rel, store)
        except (OSError, LoomError) as exc:
            here = f"{rel} can't be read in the workspace ({exc})"
        else:
            here = (
                f"{rel} differs from what DVC recorded"
                if os.path.lexists(full)
                else f"{rel} is not in the workspace"
            )
        found = self._from_cache(rel, want)
        if isinstance(found, str):
            return f"{here}, and {found}"
        return found

    # -- the workspace --------------------------------------------------------------
    def _workspace_matches(self, full: Path, want: DvcHash) -> bool:
        if not os.path.exists(full):
            return False
        if want.is_dir != full.is_dir():
            return False
        if not want.is_dir:
            md5, unix, _, _ = file_hashes(full)
            return matches(want, md5, unix)
        listed = hash_folder(full)
        cached = self.dvc.listing(want)
        if cached is not None:  # compared file by file: no trust in JSON spacing
            if cached.keys() != listed.files.keys():
                return False
            return all(matches(cached[r], h[0], h[1]) for r, h in listed.files.items())
        return listed.dvc_md5(want.legacy) == want.md5

    def _from_workspace(self, rel: str, store: bool) -> Found:
        full = self.ws.path_of(rel)
        if store:
            snap = store_content(self.ws, rel, self.state)
        else:
            snap = scan(full, self.state)  # type: ignore[assignment]
            assert snap is not None
        return Found(rel, snap.oid, snap.size, snap.kind, snap.files, "workspace")

    # -- DVC's cache ----------------------------------------------------------------
    def _from_cache(self, rel: str, want: DvcHash) -> Found | str:
        if not want.is_dir:
            got = self._cached_file(want)
            if isinstance(got, str):
                return got
            return Found(rel, got[0], got[1], "file", None, "dvc-cache")
        listing = self.dvc.listing(want)
        if listing is None:
            return f"DVC's cache lacks its listing {want.md5}"
        entries = []
        for inner, h in sorted(listing.items()):
            got = self._cached_file(h)
            if isinstance(got, str):
                return f"{inner}: {got}"
            entries.append(TreeEntry(inner, got[0], got[1], False))  # DVC keeps no exec bit
        tree = Tree.from_entries(entries)
        self.ws.odb.add_bytes(tree.to_bytes())
        return Found(rel, tree.oid, tree.size, "dir", len(entries), "dvc-cache")

    def _cached_file(self, want: DvcHash) -> tuple[Oid, int] | str:
        """Store one DVC cache object in the Loom cache, verified; (oid, size) or why not."""
        path = self.dvc.path(want)
        if path is None:
            return f"DVC's cache lacks {want.md5}"
        md5, unix, oid, size = file_hashes(path)
        if not matches(want, md5, unix):
            return f"DVC's cached copy {path} is corrupt (its md5 is {md5})"
        self.ws.odb.add_file(path, oid, verify=True)
        return oid, size
