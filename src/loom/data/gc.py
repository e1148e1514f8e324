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

import itertools
import subprocess
from dataclasses import dataclass, field

from loom._types import Oid
from loom.data import pointer as ptrs
from loom.data.lock import workspace_lock
from loom.data.pointer import Pointer
from loom.data.select import select_pointers
from loom.data.state import StateIndex
from loom.data.trees import load_tree
from loom.data.workspace import Workspace
from loom.errors import MissingObjectError, PointerError, WorkspaceError
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


def _git(ws: Workspace, *args: str, data: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=ws.root, input=data, capture_output=True, check=True
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or str(exc).encode()
        raise WorkspaceError(
            f"git {args[0]} failed in {ws.root}: {detail.decode(errors='replace').strip()}",
            hint="`loom gc --all-commits` needs a git repository; use `loom gc --workspace`.",
        ) from None
    return proc.stdout


def commit_pointers(ws: Workspace) -> list[Pointer]:
    """Pointers in every commit reachable from any ref (branches, tags, stash).

    One ``git log --all -m --raw`` lists every blob ever written at a ``*.loom``
    path (merges diffed against each parent, root commits as additions); one
    ``git cat-file --batch`` reads them.
    """
    prefix = _git(ws, "rev-parse", "--show-prefix").decode().strip()
    cmd = ["log", "--all", "-m", "--raw", "--no-abbrev", "--no-renames", "--format=", "-z", "--"]
    out = _git(ws, *cmd, f":(top,glob){prefix}**/*{ptrs.SUFFIX}")
    blobs: dict[bytes, str] = {}  # blob id -> a workspace path it appeared under
    fields = out.split(b"\0")
    for meta, raw in itertools.pairwise(fields):
        parts = meta.strip().split()  # :old_mode new_mode old_sha new_sha status, then path
        if len(parts) != 5 or not parts[0].startswith(b":") or set(parts[3]) == {ord("0")}:
            continue  # not a record, or a deletion (which names no new blob)
        path = raw.decode("utf-8", "surrogateescape")
        blobs.setdefault(parts[3], path[len(prefix) :])
    return _read_blobs(ws, blobs)


def _read_blobs(ws: Workspace, blobs: dict[bytes, str]) -> list[Pointer]:
    """Parse pointer blobs with one ``git cat-file --batch``."""
    if not blobs:
        return []
    out = _git(ws, "cat-file", "--batch", data=b"".join(b + b"\n" for b in blobs))
    pointers: list[Pointer] = []
    pos = 0
    for rel in blobs.values():
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        body = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
        try:
            pointers.append(ptrs.parse(body, rel))
        except PointerError:
            continue  # a garbled pointer in old history names nothing to keep
    return pointers
