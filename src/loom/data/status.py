"""``loom status``: how each tracked path differs from its pointer.

    >>> [s.state for s in status(ws)]      # e.g. ['clean', 'modified']

One stat per file; a file is hashed only when its stat is not in the state
index, so an unchanged workspace costs a walk and a dictionary lookup per file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from loom._types import StrPath
from loom.data.pointer import Pointer
from loom.data.progress import NO_PROGRESS, Progress
from loom.data.scan import Snapshot, scan
from loom.data.select import select_pointers
from loom.data.state import StateIndex
from loom.data.trees import load_tree
from loom.data.unpushed import warn_unpushed
from loom.data.workspace import Workspace


@dataclass(frozen=True)
class PathStatus:
    """``state``: clean, modified or deleted. ``in_cache``: every object is in the cache."""

    path: str
    kind: str
    state: str
    in_cache: bool
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def status(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> list[PathStatus]:
    """Compare every pointer (or those for ``paths``) with the workspace.

    Warns (``loom.errors.warn``) when the cache holds versions the default remote lacks.
    """
    state = StateIndex(ws.loom_dir / "state.db")
    try:
        out = []
        selected = select_pointers(ws, paths)
        for ptr in selected:
            snap = scan(ws.path_of(ptr.rel), state, jobs=jobs, progress=progress)
            out.append(_compare(ws, ptr, snap, state))
        state.save()
        warn_unpushed(ws, state, {p.rel for p in selected} if paths else None)
    finally:
        state.close()
    return out


def _complete(ws: Workspace, ptr: Pointer, state: StateIndex) -> bool:
    """Whether every object of ``ptr`` is cached; remembered per tree in the state index."""
    if not ws.odb.exists(ptr.hash):
        return False
    if ptr.kind == "file" or state.is_complete(ptr.hash):
        return True
    tree = load_tree(ws.odb, ptr.hash, ptr.pointer_rel)
    if ws.odb.missing({e.hash for e in tree.entries}):
        return False
    state.put_complete(ptr.hash)
    return True


def _compare(ws: Workspace, ptr: Pointer, snap: Snapshot | None, state: StateIndex) -> PathStatus:
    if snap is not None and snap.oid == ptr.hash:
        cached = _complete(ws, ptr, state)
        return PathStatus(ptr.rel, ptr.kind, "clean", cached)
    want = None
    if ptr.kind == "dir" and ws.odb.exists(ptr.hash):
        want = load_tree(ws.odb, ptr.hash, ptr.pointer_rel)
    cached = _complete(ws, ptr, state)
    if snap is None:
        return PathStatus(ptr.rel, ptr.kind, "deleted", cached)
    if want is None or snap.tree is None:
        return PathStatus(ptr.rel, ptr.kind, "modified", cached)
    have, wanted = snap.tree.as_dict(), want.as_dict()
    return PathStatus(
        ptr.rel,
        ptr.kind,
        "modified",
        cached,
        added=sorted(have.keys() - wanted.keys()),
        modified=sorted(p for p in have.keys() & wanted.keys() if have[p] != wanted[p]),
        deleted=sorted(wanted.keys() - have.keys()),
    )
