"""``loom gc``: drop cached objects that no kept pointer needs.

The keep set is every object named by the pointers in the workspace
(``workspace``) or, with ``all_commits``, also by every ``*.loom`` file in
every commit of every branch and tag — plus every object the cache's refs name
(the artifacts of tracked runs, whichever store they were logged to; see
``loom.objects.refs``). Refs are never removed here: a deleted run can be
restored. Objects younger than the grace period are never removed, so an add
or push running next to gc is safe.

    >>> gc(ws, all_commits=True, dry_run=True).removed
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loom._types import Oid
from loom.data.history import commit_pointers
from loom.data.ledger import Ledger
from loom.data.lock import workspace_lock
from loom.data.pointer import Pointer
from loom.data.select import select_pointers
from loom.data.state import StateIndex
from loom.data.trees import load_tree
from loom.data.workspace import Workspace
from loom.errors import MissingObjectError, UsageError
from loom.objects import gc as objects_gc


@dataclass
class GcReport:
    removed: list[Oid] = field(default_factory=list)
    bytes: int = 0
    kept: int = 0
    run_objects: int = 0  # cached objects kept because tracked runs use them
    dry_run: bool = False
    unknown_trees: list[str] = field(default_factory=list)  # folders whose listing isn't cached

    def as_dict(self) -> dict:
        return {
            "removed": len(self.removed),
            "bytes": self.bytes,
            "kept": self.kept,
            "run_objects": self.run_objects,
            "dry_run": self.dry_run,
            "unknown_trees": self.unknown_trees,
        }


def gc(
    ws: Workspace,
    *,
    all_commits: bool = False,
    dry_run: bool = False,
    grace_seconds: float | None = None,
) -> GcReport:
    """Remove unreferenced objects older than ``grace_seconds`` (default ``gc.grace_seconds``)."""
    if grace_seconds is None:
        grace_seconds = float(ws.setting("gc.grace_seconds"))
    if ws.setting("cache.dir") is not None and not dry_run:
        # The cache is another's (an experiment's worktree, a cache shared by projects): the
        # pointers here are not all that need it, and collecting by them would lose the rest.
        raise UsageError(
            f"This workspace uses the cache at {ws.cache_dir} (cache.dir), which other "
            "workspaces share; gc here would remove what only they use.",
            hint="Run `loom gc` in the workspace that owns that cache, or see what this "
            "one would keep with `loom gc --dry-run`.",
            cache=str(ws.cache_dir),
        )
    with workspace_lock(ws):
        pointers = select_pointers(ws)
        if all_commits:
            pointers += commit_pointers(ws)
        report = GcReport(dry_run=dry_run)
        runs = ws.odb.refs.oids()  # one read per run's ref file
        report.run_objects = len(runs) - len(ws.odb.missing(runs))
        keep = keep_set(ws, pointers, report) | runs
        result = objects_gc.collect(ws.odb, keep, grace_seconds=grace_seconds, dry_run=dry_run)
        report.removed, report.bytes, report.kept = result.removed, result.bytes, len(keep)
        if result.removed and not dry_run:
            state = StateIndex(ws.loom_dir / "state.db")
            state.forget_complete()
            # versions whose object is gone no longer count for `status`'s unpushed warning
            ledger = Ledger(state.connection())
            removed = set(result.removed)
            ledger.forget_versions(h for h in ledger.version_hashes() if h in removed)
            state.close()
    return report


def keep_set(ws: Workspace, pointers: list[Pointer], report: GcReport) -> set[Oid]:
    keep: set[Oid] = set()
    unlisted = {p.hash for p in pointers if p.kind == "dir" and not ws.odb.exists(p.hash)}
    if unlisted:
        _fetch_listings(ws, sorted(unlisted))
    for ptr in pointers:
        keep.add(ptr.hash)
        if ptr.kind != "dir":
            continue
        try:
            keep.update(e.hash for e in load_tree(ws.odb, ptr.hash, ptr.pointer_rel).entries)
        except MissingObjectError:
            # Without its listing a folder's files can't be named; they can't be checked
            # out from this cache either. Reported, so the user can fetch it first.
            report.unknown_trees.append(ptr.pointer_rel)
    return keep


def _fetch_listings(ws: Workspace, trees: list[Oid]) -> None:
    """Bring folder listings the cache lacks from the default remote, when there is one.

    gc keeps a folder's files only if it can name them, and an old version's
    listing is often not cached (a pull fetches the checked-out version only).
    Tree objects are small. What can't be fetched is reported as unknown.
    """
    from loom.data.remotes import open_configured
    from loom.errors import LoomError
    from loom.objects import transfer

    try:
        transfer.pull(ws.odb, open_configured(ws), trees)
    except LoomError:
        pass  # no remote, unreachable, or not there either: keep_set reports them
