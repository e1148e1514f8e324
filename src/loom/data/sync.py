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
from loom.data.ledger import Ledger
from loom.data.lock import workspace_lock
from loom.data.pointer import Pointer
from loom.data.progress import NO_PROGRESS, Progress
from loom.data.remotes import RemoteConfig, location, open_config, resolve
from loom.data.select import select_pointers
from loom.data.trees import load_tree
from loom.data.versions import lost_error, pointers_to_push, version_objects
from loom.data.workspace import Workspace
from loom.errors import MissingObjectError
from loom.objects import transfer
from loom.objects.remote import Remote
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
    all_commits: bool = False,
    all_tags: bool = False,
    all_branches: bool = False,
) -> SyncResult:
    """Send the objects of every pointer (or those for ``paths``) that the remote lacks.

    Without ``paths``, also the cached artifacts of tracked runs, so a teammate on
    the same tracking store can download them.

    ``all_commits`` / ``all_tags`` / ``all_branches`` also send what every commit of
    every ref / every tagged commit / every branch tip references. Objects of old
    versions that the cache lacks but the remote has are fine; versions in neither
    place are listed in a MissingObjectError once everything else was sent.
    """
    with workspace_lock(ws):
        conf = resolve(ws, remote)
        target = open_config(ws, conf)
        result = SyncResult(target.url)
        pointers = pointers_to_push(
            ws, paths, all_commits=all_commits, all_tags=all_tags, all_branches=all_branches
        )
        lost = _push_versions(ws, conf, target, pointers, result, jobs, progress)
        if not paths:
            _push_run_artifacts(ws, target, result, jobs)
        if lost is not None:
            raise lost
    return result


def _push_run_artifacts(ws: Workspace, target: Remote, result: SyncResult, jobs: int | None):
    """Send the tracked runs' artifacts this cache holds (a teammate downloads them)."""
    artifacts = _run_artifact_oids(ws)
    result.artifacts = len(artifacts)
    if artifacts:
        result.add(transfer.push(ws.odb, target, artifacts, jobs=jobs))


def _run_artifact_oids(ws: Workspace) -> list[Oid]:
    """The objects the cache's refs name (tracked runs' artifacts) that it holds.

    Refs may name objects logged through another cache (a shared store's
    backfill): only those present here can be sent.
    """
    refs = ws.odb.refs.oids()
    return sorted(refs - ws.odb.missing(refs))


def _push_versions(
    ws: Workspace,
    conf: RemoteConfig,
    target: Remote,
    pointers: list[Pointer],
    result: SyncResult,
    jobs: int | None,
    progress: Progress,
) -> MissingObjectError | None:
    """Push the pointers' objects and note which versions the remote now holds whole.

    Returns (does not raise) the error listing versions in neither place, so that
    later steps still run before it is raised.
    """
    objects, unlisted = version_objects(ws, target, pointers)
    oids = list(dict.fromkeys(o for found in objects.values() for o in found))
    advance = progress.task(f"Pushing to {target.url}", len(oids))
    absent: set[Oid] = set()
    try:
        result.add(transfer.push(ws.odb, target, oids, jobs=jobs, on_done=advance))
    except MissingObjectError as exc:  # the rest was sent; these are in neither place
        result.add(exc.fields["result"])
        absent = set(exc.fields["oids"])
    lacking = {p: len(absent.intersection(found)) for p, found in objects.items()}
    with Ledger.open(ws) as ledger:
        whole = {p.hash for p, n in lacking.items() if not n}
        ledger.mark_on_remote(location(ws, conf), whole)
    lacking = {p: n for p, n in lacking.items() if n}
    if not unlisted and not lacking:
        return None
    result.failed.extend((o, "in neither the cache nor the remote") for o in sorted(absent))
    return lost_error(unlisted, lacking, target.url, result=result)


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
        conf = resolve(ws, remote)
        target = open_config(ws, conf)
        ptrs = select_pointers(ws, paths)
        result = SyncResult(target.url)
        trees = [p.hash for p in ptrs if p.kind == "dir"]
        came = ws.odb.missing(p.hash for p in ptrs)
        if trees:  # a folder's file list lives in its tree object: fetch those first
            result.add(transfer.pull(ws.odb, target, trees, jobs=jobs))
        by_ptr = {p: object_ids(ws, [p]) for p in ptrs}
        oids = list(dict.fromkeys(o for found in by_ptr.values() for o in found))
        came |= ws.odb.missing(oids)
        advance = progress.task(f"Fetching from {target.url}", len(oids))
        result.add(transfer.pull(ws.odb, target, oids, jobs=jobs, on_done=advance))
        if trees:  # don't count the trees twice
            result.skipped -= len(trees)
        _mark_fetched(ws, conf, by_ptr, came)
    return result


def _mark_fetched(
    ws: Workspace, conf: RemoteConfig, by_ptr: dict[Pointer, list[Oid]], came: set[Oid]
) -> None:
    """Versions that came wholly from the remote are on it. One whose objects were partly
    cached already is not marked: those objects might be on the remote or not."""
    whole = {p.hash for p, found in by_ptr.items() if came.issuperset(found)}
    if whole:
        with Ledger.open(ws) as ledger:
            ledger.mark_on_remote(location(ws, conf), whole)


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
