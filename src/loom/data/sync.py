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
from loom.data import shared_refs
from loom.data.checkout import CheckoutResult, checkout_targets
from loom.data.ledger import Ledger
from loom.data.lock import workspace_lock
from loom.data.oserrors import os_errors
from loom.data.pointer import Pointer
from loom.data.problems import Problems
from loom.data.progress import NO_PROGRESS, Progress
from loom.data.remotes import RemoteConfig, location, open_config, resolve
from loom.data.select import Target, select_targets
from loom.data.trees import load_tree
from loom.data.versions import lost_error, pointers_to_push, version_objects
from loom.data.workspace import Workspace
from loom.errors import CorruptObjectError, LoomError, MissingObjectError, NoRemoteError
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
    refs: int = 0  # run cache entries sent or brought (loom.data.shared_refs)
    checkout: CheckoutResult | None = None
    failed: list[tuple[Oid, str]] = field(default_factory=list)

    def add(self, r: TransferResult) -> None:
        self.transferred += r.transferred
        self.skipped += r.skipped
        self.bytes += r.bytes
        self.failed.extend(r.failed)

    def as_dict(self) -> dict:
        keys = ("remote", "transferred", "skipped", "bytes", "artifacts", "refs")
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
            _push_run_artifacts(ws, target, result, jobs)  # run cache objects among them
            result.refs = shared_refs.push_refs(ws, target)
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
    """Bring the objects of every pointer (or of what ``paths`` name) into the cache.

    Everything the remote has is fetched; then one error lists the objects it lacks
    (or holds corrupt) and the workspace paths they were for.
    """
    with workspace_lock(ws), os_errors(ws, "fetch into the cache"):
        result, problems = _fetch(ws, select_targets(ws, paths), remote, jobs, progress, not paths)
    problems.raise_if_any("fetched", result=result)
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
    """``fetch`` then ``checkout``, under one lock: every path whose objects arrived is
    checked out, then one error lists the rest."""
    with workspace_lock(ws):
        targets = select_targets(ws, paths)
        with os_errors(ws, "fetch into the cache"):
            result, problems = _fetch(ws, targets, remote, jobs, progress, not paths)
        result.checkout, more = checkout_targets(
            ws, targets, force=force, jobs=jobs, progress=progress
        )
    problems.merge(more)  # a file whose object the remote lacks is reported once, by fetch
    problems.raise_if_any("pulled", result=result)
    return result


def fetch_versions(
    ws: Workspace, pointers: Sequence[Pointer], *, remote: str | None = None
) -> SyncResult | None:
    """Make sure the cache holds every object of these versions (any path and hash, e.g.
    what a run read), fetching what it lacks from ``remote`` (default: the default remote).

    None when nothing was missing (no remote is needed then). Otherwise one error lists
    each path whose objects are in neither the cache nor the remote, naming both.
    """
    lacking = [p for p in pointers if lacks(ws, p)]
    if not lacking:
        return None
    with workspace_lock(ws), os_errors(ws, "fetch into the cache"):
        try:
            result, problems = _fetch(ws, [Target(p) for p in lacking], remote, None, NO_PROGRESS)
        except NoRemoteError as exc:
            names = ", ".join(f"{p.rel} ({p.hash[:12]})" for p in lacking[:5])
            raise MissingObjectError(
                f"Not in the cache at {ws.odb.root}: {names}"
                + (f" and {len(lacking) - 5} more" if len(lacking) > 5 else "")
                + f"; and there is no remote to fetch them from ({exc.message.rstrip('.')}).",
                hint=exc.hint,
                paths=[p.rel for p in lacking],
                oids=[p.hash for p in lacking],
            ) from None
    where = f"found in the cache at {ws.odb.root} or fetched from {result.remote}"
    problems.raise_if_any(where, result=result)
    return result


def lacks(ws: Workspace, ptr: Pointer) -> bool:
    """Whether the cache lacks an object of ``ptr``'s version (a folder's listing or files)."""
    try:
        return bool(ws.odb.missing(object_ids(ws, [ptr])))
    except LoomError:  # a folder's listing is not here: its files can't even be named
        return True


def _fetch(
    ws: Workspace, targets: Sequence[Target], remote: str | None, jobs, progress, refs=False
) -> tuple[SyncResult, Problems]:
    conf = resolve(ws, remote)
    target = open_config(ws, conf)
    result = SyncResult(target.url)
    if refs:  # everything was asked for: the run cache's entries too
        result.refs = shared_refs.fetch_refs(ws, target)
    gone: dict[Oid, LoomError] = {}  # what the remote lacks or holds corrupt
    came = ws.odb.missing(t.ptr.hash for t in targets)  # what this fetch brings
    trees = list(dict.fromkeys(t.ptr.hash for t in targets if t.ptr.kind == "dir"))
    if trees:  # a folder's file list lives in its tree object: fetch those first
        _pull(ws, target, trees, result, gone, jobs)
    needs: dict[Oid, list[str]] = {}  # object -> the workspace paths it is for
    whole: dict[Pointer, list[Oid]] = {}  # versions fetched whole -> their objects
    problems = Problems()
    for t in targets:
        ptr = t.ptr
        if ptr.kind == "file":
            needs.setdefault(ptr.hash, []).append(ptr.rel)
            whole[ptr] = [ptr.hash]
            continue
        if ptr.hash in gone:
            problems.add(ptr.rel, _listing_gone(ptr, gone[ptr.hash]))
            continue
        try:
            tree = load_tree(ws.odb, ptr.hash, ptr.pointer_rel)
        except LoomError as exc:  # not a listing (a bad pointer), or corrupt in the cache
            problems.add(ptr.rel, exc)
            continue
        for e in tree.entries:
            if t.wants(e.path):
                needs.setdefault(e.hash, []).append(f"{ptr.rel}/{e.path}")
        if not t.within:
            whole[ptr] = [ptr.hash, *(e.hash for e in tree.entries)]
    oids = [o for o in needs if o not in gone]
    came |= ws.odb.missing(oids)
    advance = progress.task(f"Fetching from {target.url}", len(oids))
    _pull(ws, target, oids, result, gone, jobs, advance)
    _mark_fetched(ws, conf, whole, came - gone.keys())
    for oid, why in gone.items():
        for path in needs.get(oid, ()):
            problems.add(path, _object_gone(oid, why, target.url))
    result.failed.extend((oid, why.message) for oid, why in gone.items())
    return result, problems


def _pull(ws, target, oids: list[Oid], result: SyncResult, gone: dict, jobs, advance=None):
    """Fetch what ``oids`` the remote has; record the rest in ``gone`` (oid -> why)."""
    try:
        result.add(transfer.pull(ws.odb, target, oids, jobs=jobs, on_done=advance))
    except (MissingObjectError, CorruptObjectError) as exc:
        # the transfer installed every good object before raising: keep those, note the rest
        partial = exc.fields.get("result")
        if partial is not None:
            result.add(partial)
        bad = {e.fields.get("oid"): e for e in exc.fields.get("errors", ())}
        for oid in ws.odb.missing(oids):
            gone[oid] = bad.get(oid, exc)


def _listing_gone(ptr: Pointer, exc: LoomError) -> LoomError:
    cls = CorruptObjectError if isinstance(exc, CorruptObjectError) else MissingObjectError
    where = "is corrupt on the remote" if cls is CorruptObjectError else "is not on the remote"
    return cls(
        f"{ptr.rel}: its folder listing (object {ptr.hash}) {where}, so none of its "
        "files could be fetched.",
        hint=exc.hint,
        oid=ptr.hash,
        path=ptr.rel,
    )


def _object_gone(oid: Oid, exc: LoomError, url: str) -> LoomError:
    if isinstance(exc, CorruptObjectError) and exc.fields.get("oid") == oid:
        return exc  # names the remote file
    return MissingObjectError(
        f"object {oid} is not on remote {url}.",
        hint=exc.hint,
        oid=oid,
    )
