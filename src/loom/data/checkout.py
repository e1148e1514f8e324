"""``loom checkout``: make the workspace match the pointers, rewriting only what differs.

    >>> checkout(ws)                    # after `git checkout HEAD~1`
    CheckoutResult(written=3, removed=1, unchanged=1)

Every file is written to a temp name beside it and renamed into place, so a
kill leaves the old or the new file, never half of one. Objects are verified
as they are written; a corrupt one is reported with its cache path and the
workspace path it was meant for, and is never put in place. A workspace file
whose content is not in the cache is not overwritten unless ``force``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from loom._types import StrPath
from loom.data.lock import workspace_lock
from loom.data.place import place, place_packed_batch, set_exec
from loom.data.pointer import Pointer
from loom.data.progress import NO_PROGRESS, Progress
from loom.data.scan import scan
from loom.data.select import select_pointers
from loom.data.state import StateIndex, StatKey
from loom.data.trees import load_tree
from loom.data.workspace import Workspace
from loom.errors import (
    ConflictError,
    CorruptObjectError,
    LoomError,
    MissingObjectError,
)
from loom.objects.hashing import default_jobs
from loom.objects.tree import TreeEntry

_BATCH = 256  # files per thread task, consecutive in their pack


@dataclass
class CheckoutResult:
    written: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)  # workspace paths not checked out


@dataclass
class _Plan:
    write: list[tuple[str, TreeEntry]] = field(default_factory=list)
    chmod: list[tuple[Path, bool]] = field(default_factory=list)
    remove: list[tuple[Path, Path]] = field(default_factory=list)  # (path, tracked root)


def checkout(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    force: bool = False,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> CheckoutResult:
    """Check out every pointer (or those for ``paths``) from the cache."""
    with workspace_lock(ws):
        state = StateIndex(ws.loom_dir / "state.db")
        try:
            result = CheckoutResult()
            plan = _Plan()
            for ptr in select_pointers(ws, paths):
                _plan_one(ws, ptr, state, plan, result, force, jobs, progress)
            _apply(ws, plan, state, result, jobs, progress)
            state.save()
        finally:
            state.close()
    return result


def _plan_one(ws, ptr: Pointer, state, plan: _Plan, result, force, jobs, progress) -> None:
    full = ws.path_of(ptr.rel)
    snap = scan(full, state, jobs=jobs, progress=progress)
    for tmp in snap.stale if snap is not None else ():
        os.unlink(tmp)  # we hold the lock: no other checkout is writing these
    if snap is not None and snap.oid == ptr.hash:
        result.unchanged += 1
        return
    if ptr.kind == "file":
        if snap is not None:
            _guard(ws, ptr.rel, ptr.rel, snap.kind == "file" and snap.oid, force)
            if snap.kind == "dir":
                plan.remove.append((full, full.parent))
        plan.write.append((str(full), TreeEntry("", ptr.hash, ptr.size, _is_exec(full))))
        return
    want = load_tree(ws.odb, ptr.hash, ptr.pointer_rel).as_dict()
    have = snap.tree.as_dict() if snap is not None and snap.tree is not None else {}
    if snap is not None and snap.kind == "file":
        _guard(ws, ptr.rel, ptr.rel, snap.oid, force)
        plan.remove.append((full, full.parent))
    for rel, entry in want.items():
        old = have.get(rel)
        if old is None or old.hash != entry.hash:
            if old is not None:
                _guard(ws, ptr.rel, f"{ptr.rel}/{rel}", old.hash, force)
            plan.write.append((f"{full}/{rel}", entry))  # str: pathlib cost ~10 µs a file
        elif old.exec != entry.exec:
            plan.chmod.append((full / rel, entry.exec))
    for rel in have.keys() - want.keys():
        _guard(ws, ptr.rel, f"{ptr.rel}/{rel}", have[rel].hash, force)
        plan.remove.append((full / rel, full))


def _guard(ws: Workspace, tracked: str, rel: str, oid, force: bool) -> None:
    """Refuse to overwrite a workspace file whose content exists nowhere else."""
    if force or (oid and ws.odb.exists(oid)):
        return
    raise ConflictError(
        f"{rel} has changes that are not in the cache; checkout would lose them.",
        hint=f"Run `loom add {tracked}` to keep them, or `loom checkout --force {tracked}` "
        "to discard them.",
        path=rel,
    )


def _is_exec(path: Path) -> bool:
    try:
        return bool(os.stat(path).st_mode & 0o100)
    except OSError:
        return False


def _apply(ws, plan: _Plan, state, result: CheckoutResult, jobs, progress) -> None:
    for path, top in plan.remove:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        _prune_empty(path.parent, top)
        result.removed += 1
    for path, exec_ in plan.chmod:
        set_exec(path, exec_)
        result.written += 1
    if not plan.write:
        return
    modes = [m.strip() for m in str(ws.setting("cache.type")).split(",") if m.strip()]
    advance = progress.task("Checking out", len(plan.write))
    errors: list[tuple[str, LoomError]] = []
    made: set[str] = set()
    keys: list[tuple[StatKey, str]] = []  # list.append is atomic: the workers share it

    def one(item: tuple[str, TreeEntry]) -> None:
        path, entry = item
        try:
            keys.append((place(ws.odb, entry, Path(path), modes, made), entry.hash))
        except (CorruptObjectError, MissingObjectError) as exc:
            errors.append((_show(ws, path), exc))
            result.failed.append(_show(ws, path))
        advance(1)

    def batch(items: list[tuple[str, TreeEntry]]) -> None:
        try:
            stats = place_packed_batch(ws.odb, items)
        except (CorruptObjectError, MissingObjectError):
            for dest, entry in items:  # one by one, to name the bad file and write the rest
                one((dest, entry))
            return
        keys.extend(zip(stats, (e.hash for _, e in items), strict=True))
        advance(len(items))

    packed, rest = _split_packed(ws, plan.write, modes)
    made.update(_make_folders(path for path, _ in plan.write))
    with ThreadPoolExecutor(jobs or default_jobs()) as pool:
        # a batch per task: a future per file cost more than writing a 4 KiB file
        done = pool.map(batch, [packed[i : i + _BATCH] for i in range(0, len(packed), _BATCH)])
        list(pool.map(one, rest, chunksize=16))
        list(done)
    result.written += len(keys)
    state.put_many(keys)
    if errors:
        _raise(errors, result)


def _split_packed(ws, write: list[tuple[str, TreeEntry]], modes: list[str]):
    """Packed objects copied out in pack order (neighbours read together), and the rest."""
    if modes[0] not in ("reflink", "copy"):
        return [], write
    odb = ws.odb
    odb.packs.refresh()
    packed, rest = [], []
    for path, entry in write:
        hit = odb.packs.lookup(entry.hash)
        if hit is None:
            rest.append((path, entry))
        else:
            packed.append((hit[0].id, hit[1], path, entry))
    packed.sort(key=lambda row: (row[0], row[1]))
    return [(dest, entry) for _, _, dest, entry in packed], rest


def _make_folders(paths) -> set[str]:
    folders = sorted({os.path.dirname(p) for p in paths})
    for folder in folders:
        os.makedirs(folder, exist_ok=True)
    return set(folders)


def _show(ws: Workspace, path: str | Path) -> str:
    return Path(path).relative_to(ws.root).as_posix()


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _raise(errors: list[tuple[str, LoomError]], result: CheckoutResult) -> None:
    lines = [f"{path}: {exc.message}" for path, exc in errors[:10]]
    if len(errors) > 10:
        lines.append(f"… and {len(errors) - 10} more")
    corrupt = any(isinstance(exc, CorruptObjectError) for _, exc in errors)
    raise (CorruptObjectError if corrupt else MissingObjectError)(
        f"{len(errors)} file(s) could not be checked out:\n  " + "\n  ".join(lines),
        hint="Run `loom pull` to fetch good copies (and `loom fsck` to list bad objects).",
        paths=result.failed,
        result=result,
    )
