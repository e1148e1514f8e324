"""``loom push`` / ``fetch`` / ``pull``: move the objects that pointers name to and from a remote.

    >>> push(ws)                       # only what the remote lacks
    >>> pull(ws, remote="backup")      # fetch, then checkout

A folder's tree object travels with its files; fetch gets trees first, then
the files they list. Every fetched object is verified before it is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from loom._types import Oid, StrPath
from loom.data.checkout import CheckoutResult, checkout
from loom.data.lock import workspace_lock
from loom.data.pointer import Pointer
from loom.data.progress import NO_PROGRESS, Progress
from loom.data.remotes import open_configured
from loom.data.select import select_pointers
from loom.data.trees import load_tree
from loom.data.workspace import Workspace
from loom.objects import transfer
from loom.objects.transfer import TransferResult


@dataclass
class SyncResult:
    remote: str
    transferred: int = 0
    skipped: int = 0
    bytes: int = 0
    artifacts: int = 0  # objects of tracked runs' artifacts among those pushed
    checkout: CheckoutResult | None = None
    failed: list[tuple[Oid, str]] = field(default_factory=list)

    def add(self, r: TransferResult) -> None:
        self.transferred += r.transferred
        self.skipped += r.skipped
        self.bytes += r.bytes
        self.failed.extend(r.failed)

    def as_dict(self) -> dict:
        keys = ("remote", "transferred", "skipped", "bytes", "artifacts")
        out = {k: getattr(self, k) for k in keys}
        out["failed"] = [{"oid": o, "reason": why} for o, why in self.failed]
        if self.checkout is not None:
            c = self.checkout
            out["checkout"] = {"written": c.written, "removed": c.removed, "unchanged": c.unchanged}
        return out


def object_ids(ws: Workspace, ptrs: Sequence[Pointer]) -> list[Oid]:
    """Every object the pointers need: file hashes, tree objects and their files."""
    out: list[Oid] = []
    for ptr in ptrs:
        out.append(ptr.hash)
        if ptr.kind == "dir":
            out.extend(e.hash for e in load_tree(ws.odb, ptr.hash, ptr.pointer_rel).entries)
    return list(dict.fromkeys(out))


def push(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    remote: str | None = None,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> SyncResult:
    """Send the objects of every pointer (or those for ``paths``) that the remote lacks.

    Without ``paths``, also the cached artifacts of tracked runs, so a teammate on
    the same tracking store can download them.
    """
    with workspace_lock(ws):
        target = open_configured(ws, remote)
        oids = object_ids(ws, select_pointers(ws, paths))
        result = SyncResult(target.url)
        if not paths:
            artifacts = _run_artifact_oids(ws)
            result.artifacts = len(artifacts)
            oids = list(dict.fromkeys([*oids, *artifacts]))
        advance = progress.task(f"Pushing to {target.url}", len(oids))
        result.add(transfer.push(ws.odb, target, oids, jobs=jobs, on_done=advance))
    return result


def _run_artifact_oids(ws: Workspace) -> list[Oid]:
    """The objects the cache's refs name (tracked runs' artifacts) that it holds.

    Refs may name objects logged through another cache (a shared store's
    backfill): only those present here can be sent.
    """
    refs = ws.odb.refs.oids()
    return sorted(refs - ws.odb.missing(refs))


def fetch(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    remote: str | None = None,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> SyncResult:
    """Bring the objects of every pointer (or those for ``paths``) into the cache."""
    with workspace_lock(ws):
        target = open_configured(ws, remote)
        ptrs = select_pointers(ws, paths)
        result = SyncResult(target.url)
        trees = [p.hash for p in ptrs if p.kind == "dir"]
        if trees:  # a folder's file list lives in its tree object: fetch those first
            result.add(transfer.pull(ws.odb, target, trees, jobs=jobs))
        oids = object_ids(ws, ptrs)
        advance = progress.task(f"Fetching from {target.url}", len(oids))
        result.add(transfer.pull(ws.odb, target, oids, jobs=jobs, on_done=advance))
        if trees:  # don't count the trees twice
            result.skipped -= len(trees)
    return result


def pull(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    remote: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    progress: Progress = NO_PROGRESS,
) -> SyncResult:
    """``fetch`` then ``checkout``, under one lock."""
    with workspace_lock(ws):
        result = fetch(ws, paths, remote=remote, jobs=jobs, progress=progress)
        result.checkout = checkout(ws, paths, force=force, jobs=jobs, progress=progress)
    return result
