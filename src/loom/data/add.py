"""``loom add``: store files and folders in the cache and write their pointer files.

    >>> add(ws, ["data/raw"])     # -> [Pointer(rel='data/raw', kind='dir', ...)]

Order of writes, so a kill at any moment leaves nothing wrong: objects (each
atomic), then the tree, then the pointer (atomic), then the ``.gitignore`` line.
Every path is validated before anything is written.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from loom._types import StrPath
from loom.data import gitignore
from loom.data import pointer as ptrs
from loom.data.ingest import packing_hasher
from loom.data.ledger import Ledger
from loom.data.listing import Listings
from loom.data.lock import workspace_lock
from loom.data.oserrors import describe, where_in
from loom.data.pointer import Pointer
from loom.data.progress import NO_PROGRESS, Progress
from loom.data.scan import Snapshot, scan
from loom.data.state import StateIndex, stat_key
from loom.data.walk import find_pointers
from loom.data.workspace import Workspace
from loom.errors import ConflictError, CorruptObjectError, UsageError
from loom.paths import MAX_NAME_BYTES


def add(
    ws: Workspace,
    paths: Sequence[StrPath],
    *,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> list[Pointer]:
    """Track ``paths`` (files or folders); re-adding a tracked path records its new version."""
    if not paths:
        raise UsageError("Nothing to add.", hint="Name a file or folder: `loom add data/raw`.")
    with workspace_lock(ws):
        rels = validate(ws, paths)
        state = StateIndex(ws.loom_dir / "state.db")
        try:
            out = []
            # the folders' listings are recorded too, so `loom repro` knows them unwalked
            with Listings() as listings:
                for rel in rels:
                    with _os_errors(ws, rel):
                        out.append(_add_one(ws, rel, state, jobs, progress, listings))
                listings.settle()
            state.save()
            # `status` warns about versions in the cache that the remote lacks
            Ledger(state.connection()).add_versions((p.rel, p.hash) for p in out)
        finally:
            state.close()
    return out


def validate(ws: Workspace, paths: Sequence[StrPath]) -> list[str]:
    """Workspace-relative paths to add, or a UsageError before anything is written."""
    rels = list(dict.fromkeys(ws.rel(p) for p in paths))
    tracked = {p[: -len(ptrs.SUFFIX)] for p in find_pointers(ws.root, use_git=ws.has_git)}
    for p, rel in zip(paths, rels, strict=False):
        full = ws.path_of(rel)
        if not os.path.lexists(full):
            raise UsageError(
                f"{p} does not exist.",
                hint="Check the path; `loom status` lists what is tracked.",
                path=str(p),
            )
        if rel.endswith(ptrs.SUFFIX):
            raise UsageError(
                f"{p} is a pointer file; Loom tracks data, git tracks pointers.",
                hint=f"Run `loom add {rel[: -len(ptrs.SUFFIX)]}` to record a new version.",
                path=str(p),
            )
        _check_name(rel, str(p))
        gitignore.pattern(rel.rsplit("/", 1)[-1])  # refuses names .gitignore can't hold
        _check_nesting(rel, tracked, str(p))
    if ws.has_git:
        _check_not_in_git(ws, rels)
    return rels


def _check_name(rel: str, shown: str) -> None:
    """Names a pointer file can hold: UTF-8, and short enough to take the ``.loom`` suffix."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        printable = os.fsencode(rel).decode("utf-8", "backslashreplace")
        raise UsageError(
            f"The name {printable} is not valid UTF-8, which pointer files and .gitignore need.",
            hint="Rename it (e.g. `convmv -f latin1 -t utf8 --notest NAME`), then `loom add` it.",
            path=printable,
        ) from None
    name = rel.rsplit("/", 1)[-1]
    size = len(name.encode("utf-8")) + len(ptrs.SUFFIX)
    if size > MAX_NAME_BYTES:
        raise UsageError(
            f"{shown} can't have a pointer file: {name[:20]}…{ptrs.SUFFIX} would be a "
            f"{size}-byte name, and names may have at most {MAX_NAME_BYTES} bytes.",
            hint=f"Shorten the name to {MAX_NAME_BYTES - len(ptrs.SUFFIX)} bytes or "
            "fewer, or move it into a folder and add the folder (files inside a tracked "
            "folder may use all 255 bytes).",
            path=shown,
        )


@contextmanager
def _os_errors(ws: Workspace, rel: str) -> Iterator[None]:
    """OSErrors while adding ``rel`` as one line naming the file: a file removed while it
    was read (another program at work), the cache not writable, or anything else."""
    try:
        yield
    except FileNotFoundError as exc:
        where = where_in(ws, exc)
        if where is None or where.startswith(".loom/"):
            raise describe(ws, exc, f"add {rel}") from None
        raise ConflictError(
            f"{where} was removed while `loom add` was reading it; {rel} was not added.",
            hint=f"Run `loom add {shlex.quote(rel)}` again once nothing is changing it.",
            path=where,
        ) from None
    except OSError as exc:
        raise describe(ws, exc, f"add {rel}") from None


def _check_not_in_git(ws: Workspace, rels: list[str]) -> None:
    """Data that git already tracks would stay in git despite the .gitignore line."""
    proc = subprocess.run(
        ["git", "ls-files", "-z", "--", *(f":(literal){r}" for r in rels)],
        cwd=ws.root,
        capture_output=True,
    )
    if proc.returncode != 0 or not proc.stdout:
        return
    first = os.fsdecode(proc.stdout.split(b"\0")[0])
    owner = next((r for r in rels if first == r or first.startswith(r + "/")), first)
    quoted = shlex.quote(owner)
    raise UsageError(
        f"{owner} is tracked by git ({first}); Loom would store it twice.",
        hint=f"Run `git rm -r --cached {quoted}`, then `loom add {quoted}`.",
        path=owner,
    )


def _check_nesting(rel: str, tracked: set[str], shown: str) -> None:
    parts = rel.split("/")
    for i in range(1, len(parts)):
        parent = "/".join(parts[:i])
        if parent in tracked:
            raise UsageError(
                f"{shown} is inside {parent}, which is already tracked as a whole.",
                hint=f"Run `loom add {parent}` to record the folder's new version.",
                path=shown,
            )
    inner = sorted(t for t in tracked if t.startswith(rel + "/"))
    if inner:
        raise UsageError(
            f"{shown} contains {inner[0]}, which is tracked on its own.",
            hint=f"Remove {inner[0]}{ptrs.SUFFIX} first, or add a folder that doesn't overlap.",
            path=shown,
        )


def _add_one(
    ws: Workspace,
    rel: str,
    state: StateIndex,
    jobs: int | None,
    progress: Progress,
    listings: Listings,
) -> Pointer:
    snap = store_content(ws, rel, state, jobs=jobs, progress=progress, listings=listings)
    full = ws.path_of(rel)
    ptr = Pointer(rel, snap.oid, snap.size, snap.kind, snap.files)  # type: ignore[arg-type]
    ptrs.save(ws.root, ptr)
    gitignore.ensure_ignored(full.parent, full.name)
    return ptr


def store_content(
    ws: Workspace,
    rel: str,
    state: StateIndex,
    *,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
    listings: Listings | None = None,
) -> Snapshot:
    """Store what the existing path ``rel`` holds now in the cache; write no pointer
    (``listings``: record a folder's listing as well, once they are settled).

    What ``add`` does before its pointer, and what tracking's ``log_input`` does
    for a tracked path whose content differs from its pointer (the run used it).
    """
    full = ws.path_of(rel)
    hasher = packing_hasher(ws.odb, jobs)
    snap = scan(full, state, progress=progress, hasher=hasher, listings=listings, walk=True)
    if snap is None:
        raise UsageError(f"{rel} does not exist.", hint="Check the path.", path=rel)
    _store(ws, full, snap, jobs, progress)
    if snap.kind == "dir" and snap.tree is not None:
        # every object is stored now: spare the next status that check
        found = ws.odb.locate([snap.oid, *(e.hash for e in snap.tree.entries)])
        if found is not None:
            state.put_complete(snap.oid, *found)
    return snap


def _store(ws: Workspace, full: Path, snap: Snapshot, jobs: int | None, progress: Progress) -> None:
    odb = ws.odb
    if snap.tree is None:
        if not odb.exists(snap.oid):
            odb.add_file(full, snap.oid)
            _recheck(ws, full, {"": snap.oid}, {"": snap.key})
        return
    assert snap.stats is not None
    by_oid = {e.hash: e for e in snap.tree.entries}
    missing = odb.missing(list(by_oid))
    items = [(full / by_oid[o].path, o, by_oid[o].size) for o in sorted(missing)]
    if items:
        advance = progress.task(f"Storing {full.name}", len(items))
        odb.add_files(items, jobs=jobs, on_done=advance)
        _recheck(
            ws,
            full,
            {by_oid[o].path: o for o in missing},
            {by_oid[o].path: snap.stats[by_oid[o].path].key for o in missing},
        )
    odb.add_bytes(snap.tree.to_bytes())


def _recheck(ws: Workspace, full: Path, stored: dict, keys: dict) -> None:
    """A file written to while it was stored: drop its object if the bytes no longer match."""
    for rel, oid in stored.items():
        path = full / rel if rel else full
        if stat_key(os.stat(path)) == keys[rel]:
            continue
        try:
            ws.odb.verify(oid)
        except CorruptObjectError:
            ws.odb.remove(oid)
            raise CorruptObjectError(
                f"{path} changed while it was being added.",
                hint=f"Run `loom add {full.relative_to(ws.root).as_posix()}` again "
                "once nothing writes to it.",
                path=str(path),
            ) from None
