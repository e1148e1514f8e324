"""``loom status``: how each tracked path differs from its pointer.

    >>> [s.state for s in status(ws)]      # e.g. ['clean', 'modified']

One stat per file; a file is hashed only when its stat is not in the state
index, so an unchanged workspace costs a walk and a dictionary lookup per file.

States: ``clean``, ``modified``, ``deleted``; ``broken`` when a link in the
data can't be followed (listed in ``broken``); ``invalid`` when the pointer
contradicts the data its hash names (``problem`` says how, ``hint`` the fix).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

from loom._types import StrPath
from loom.data.pointer import Pointer
from loom.data.progress import NO_PROGRESS, Progress
from loom.data.scan import Snapshot, scan
from loom.data.select import Target, select_targets
from loom.data.state import StateIndex
from loom.data.trees import load_tree
from loom.data.unpushed import warn_unpushed
from loom.data.validity import against_object, against_snapshot, against_tree, invalid
from loom.data.workspace import Workspace
from loom.errors import LoomError, PointerError, UsageError
from loom.objects.tree import Tree
from loom.paths import is_inside

BAD_STATES = ("broken", "invalid")  # the CLI exits non-zero when a row is in one


@dataclass(frozen=True)
class PathStatus:
    """``state``: see the module doc. ``in_cache``: every object is in the cache."""

    path: str
    kind: str
    state: str
    in_cache: bool
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)  # path inside -> why ("" = itself)
    problem: str | None = None
    hint: str | None = None

    def as_dict(self) -> dict:
        """The row as JSON; ``broken``, ``problem`` and ``hint`` only when there are some."""
        out = asdict(self)
        for key in ("broken", "problem", "hint"):
            if not out[key]:
                del out[key]
        return out


def status(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> list[PathStatus]:
    """Compare every pointer (or what ``paths`` name) with the workspace.

    A path inside a tracked folder gives that folder's row, limited to it.
    Warns (``loom.errors.warn``) when the cache holds versions the default remote lacks.
    """
    state = StateIndex(ws.loom_dir / "state.db")
    listed: list[set[str]] = []  # the cache's packs, listed once (see _complete)

    def packs() -> set[str]:
        if not listed:
            listed.append(ws.odb.packs.listed())
        return listed[0]

    try:
        selected = select_targets(ws, paths)
        out = [_one(ws, t, state, packs, jobs, progress) for t in selected]
        state.save()
        warn_unpushed(ws, state, {t.ptr.rel for t in selected} if paths else None)
    finally:
        state.close()
    return out


def _one(ws: Workspace, t: Target, state: StateIndex, packs, jobs, progress) -> PathStatus:
    ptr = t.ptr
    broken: dict[str, str] = {}
    try:
        snap = scan(ws.path_of(ptr.rel), state, jobs=jobs, progress=progress, broken=broken)
    except UsageError as exc:  # not a file or folder (a FIFO, a device)
        cached = _complete(ws, ptr, state, packs)
        return PathStatus(ptr.rel, ptr.kind, "broken", cached, problem=exc.message, hint=exc.hint)
    broken = {rel: why for rel, why in broken.items() if not rel or t.wants(rel)}
    if "" in broken:
        cached = _complete(ws, ptr, state, packs)
        why = f"{ptr.rel} is {broken['']}."
        return PathStatus(ptr.rel, ptr.kind, "broken", cached, broken=broken, problem=why)
    row = _compare(ws, t, snap, state, packs, broken)
    if broken and row.state != "invalid":
        row = replace(row, state="broken", broken=broken)
    return row


def _complete(ws: Workspace, ptr: Pointer, state: StateIndex, packs: Callable[[], set[str]]):
    """Whether every object of ``ptr`` is cached; remembered per tree in the state index,
    with where its objects were, and trusted only while they are still there."""
    if not ws.odb.exists(ptr.hash):
        return False
    if ptr.kind == "file":
        return True
    where = state.complete_where(ptr.hash)
    if where is not None and ws.odb.still_holds(*where, listed=packs()):
        return True
    tree = load_tree(ws.odb, ptr.hash, ptr.pointer_rel)
    found = ws.odb.locate([ptr.hash, *(e.hash for e in tree.entries)])
    if found is None:
        return False
    state.put_complete(ptr.hash, *found)
    return True


def _cached(ws: Workspace, t: Target, tree: Tree | None, state, packs) -> bool:
    """``_complete``, for a path inside a folder: only the objects under it."""
    if _complete(ws, t.ptr, state, packs):
        return True
    if not t.within or tree is None:
        return False
    return not ws.odb.missing([e.hash for e in tree.entries if t.wants(e.path)])


def _invalid(ptr: Pointer, why: str | LoomError, cached: bool) -> PathStatus:
    exc = why if isinstance(why, LoomError) else invalid(ptr.pointer_rel, why)
    return PathStatus(ptr.rel, ptr.kind, "invalid", cached, problem=exc.message, hint=exc.hint)


def _compare(
    ws: Workspace, t: Target, snap: Snapshot | None, state, packs, broken: dict[str, str]
) -> PathStatus:
    ptr = t.ptr
    if snap is not None and snap.oid == ptr.hash:
        why = against_snapshot(ptr, snap)
        if why is not None:  # e.g. kind: dir on a file, whose object is no listing
            return _invalid(ptr, why, ws.odb.exists(ptr.hash))
        t.check_within(snap.stats or {})  # clean: the files there are the listing
        return PathStatus(ptr.rel, ptr.kind, "clean", _complete(ws, ptr, state, packs))
    want = None
    if ptr.kind == "dir" and ws.odb.exists(ptr.hash):
        try:
            want = load_tree(ws.odb, ptr.hash, ptr.pointer_rel)
        except PointerError as exc:  # its hash names a file
            return _invalid(ptr, exc, True)
        why = against_tree(ptr, want)
    elif ptr.kind == "file" and ws.odb.exists(ptr.hash):
        why = against_object(ws.odb, ptr)
    else:
        why = None
    cached = _cached(ws, t, want, state, packs)
    if why is not None:
        return _invalid(ptr, why, cached)
    if snap is None:
        return PathStatus(ptr.rel, ptr.kind, "deleted", cached)
    if want is None or snap.tree is None:
        return PathStatus(ptr.rel, ptr.kind, "modified", cached)
    have, wanted = snap.tree.as_dict(), want.as_dict()
    if t.within:
        t.check_within(have, wanted, broken)
        have = {p: e for p, e in have.items() if t.wants(p)}
        wanted = {p: e for p, e in wanted.items() if t.wants(p)}
    added = sorted(have.keys() - wanted.keys())
    modified = sorted(p for p in have.keys() & wanted.keys() if have[p] != wanted[p])
    # a tracked file where a broken link now is: listed as broken, not as deleted
    deleted = sorted(p for p in wanted.keys() - have.keys() if not _below(p, broken))
    state_ = "modified" if added or modified or deleted or not t.within else "clean"
    return PathStatus(ptr.rel, ptr.kind, state_, cached, added, modified, deleted)


def _below(rel: str, folders: dict[str, str]) -> bool:
    return bool(folders) and any(is_inside(f, rel) for f in folders)
