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
import shlex
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from loom._types import StrPath
from loom.data.lock import workspace_lock
from loom.data.place import place, place_packed_batch, set_exec
from loom.data.pointer import Pointer
from loom.data.problems import Problems
from loom.data.progress import NO_PROGRESS, Progress
from loom.data.scan import scan
from loom.data.select import Target, select_targets
from loom.data.state import StateIndex, StatKey
from loom.data.trees import load_tree
from loom.data.validity import against_object, against_snapshot, against_tree, invalid
from loom.data.workspace import Workspace
from loom.errors import (
    ConflictError,
    CorruptObjectError,
    LinkError,
    LoomError,
    MissingObjectError,
    UsageError,
    from_oserror,
)
from loom.objects.hashing import default_jobs
from loom.objects.tree import TreeEntry
from loom.paths import is_inside

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

    def extend(self, other: _Plan) -> None:
        self.write += other.write
        self.chmod += other.chmod
        self.remove += other.remove

    def __bool__(self) -> bool:
        return bool(self.write or self.chmod or self.remove)


def checkout(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    force: bool = False,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> CheckoutResult:
    """Check out every pointer (or what ``paths`` name: tracked paths, or files and folders
    inside a tracked folder) from the cache.

    Everything that can be checked out is; what can't (an object missing or corrupt, a
    pointer that contradicts its data, a link that can't be followed, changes that are
    not in the cache) is then raised as one error listing each path.
    """
    with workspace_lock(ws):
        targets = select_targets(ws, paths)
        result, problems = checkout_targets(ws, targets, force=force, jobs=jobs, progress=progress)
    problems.raise_if_any("checked out", result=result)
    return result


def checkout_targets(
    ws: Workspace,
    targets: Sequence[Target],
    *,
    force: bool = False,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> tuple[CheckoutResult, Problems]:
    """Check out ``targets``; returns what was done and what could not be (never raises
    for one path). The caller holds the workspace lock."""
    state = StateIndex(ws.loom_dir / "state.db")
    try:
        result = CheckoutResult()
        plan = _Plan()
        problems = Problems()
        for target in targets:
            one = _Plan()  # a pointer's changes are applied whole or not at all
            try:
                _plan_one(ws, target, state, one, problems, force, jobs, progress)
            except LoomError as exc:
                problems.add(target.ptr.rel, exc)
                result.failed.append(target.ptr.rel)
                continue
            if one:
                plan.extend(one)
            else:
                result.unchanged += 1
        _apply(ws, plan, state, result, problems, jobs, progress)
        state.save()
    finally:
        state.close()
    return result, problems


def _plan_one(
    ws: Workspace, target: Target, state, plan: _Plan, problems: Problems, force, jobs, progress
) -> None:
    ptr = target.ptr
    full = ws.path_of(ptr.rel)
    broken: dict[str, str] = {}
    snap = scan(full, state, jobs=jobs, progress=progress, broken=broken)
    for tmp in snap.stale if snap is not None else ():
        os.unlink(tmp)  # we hold the lock: no other checkout is writing these
    if "" in broken:  # the tracked path itself is a link that can't be followed
        if not force:
            raise _broken(ptr, ptr.rel, broken[""])
        plan.remove.append((full, full.parent))
    inner = {rel: why for rel, why in broken.items() if rel and target.wants(rel)}
    _plan_broken(ptr, full, inner, plan, problems, force)
    if snap is not None and snap.oid == ptr.hash:
        why = against_snapshot(ptr, snap)
        if why is not None:
            raise invalid(ptr.pointer_rel, why)
        target.check_within(snap.stats or {})  # clean: the files there are the listing
        return
    if ptr.kind == "file":
        _check_file_pointer(ws, ptr)
        if snap is not None:
            _guard(ws, ptr.rel, ptr.rel, snap.kind == "file" and snap.oid, force)
            if snap.kind == "dir":
                plan.remove.append((full, full.parent))
        plan.write.append((str(full), TreeEntry("", ptr.hash, ptr.size, _is_exec(full))))
        return
    tree = load_tree(ws.odb, ptr.hash, ptr.pointer_rel)
    why = against_tree(ptr, tree)
    if why is not None:
        raise invalid(ptr.pointer_rel, why)
    want = tree.as_dict()
    have = snap.tree.as_dict() if snap is not None and snap.tree is not None else {}
    if target.within:
        target.check_within(want, have, inner)
        want = {rel: e for rel, e in want.items() if target.wants(rel)}
        have = {rel: e for rel, e in have.items() if target.wants(rel)}
    if snap is not None and snap.kind == "file":
        _guard(ws, ptr.rel, ptr.rel, snap.oid, force)
        plan.remove.append((full, full.parent))
    skip = inner if not force else {}
    for rel, entry in want.items():
        if skip and _below(rel, skip):
            continue  # reported above; never written through a link
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


def _plan_broken(ptr: Pointer, full: Path, broken: dict[str, str], plan, problems, force) -> None:
    """Links inside the folder that can't be followed: replaced with --force, else reported."""
    for rel, why in broken.items():
        if force:
            plan.remove.append((full / rel, full))
        else:
            problems.add(f"{ptr.rel}/{rel}", _broken(ptr, f"{ptr.rel}/{rel}", why))


def _broken(ptr: Pointer, shown: str, why: str) -> UsageError:
    return UsageError(
        f"{shown} is {why}; it was left as it is.",
        hint="Fix or remove the link, or run "
        f"`loom checkout --force {shlex.quote(ptr.rel)}` to put the tracked data there.",
        path=shown,
        reason=why,
    )


def _below(rel: str, folders: dict[str, str]) -> bool:
    """Whether ``rel`` is one of ``folders`` or inside one (few: the broken links)."""
    return any(is_inside(f, rel) for f in folders)


def _check_file_pointer(ws: Workspace, ptr: Pointer) -> None:
    """A file pointer's size against its object (one stat or index lookup), when cached."""
    try:
        why = against_object(ws.odb, ptr)
    except MissingObjectError:
        return  # reported when it is placed
    if why is not None:
        raise invalid(ptr.pointer_rel, why)


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


def _apply(ws, plan: _Plan, state, result: CheckoutResult, problems: Problems, jobs, progress):
    def failed(path: str | Path, exc: LoomError) -> None:
        problems.add(_show(ws, path), exc)
        result.failed.append(_show(ws, path))

    for path, top in plan.remove:
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            _prune_empty(path.parent, top)
        except OSError as exc:
            failed(path, from_oserror(exc, f"remove {_show(ws, path)}"))
            continue
        result.removed += 1
    for path, exec_ in plan.chmod:
        try:
            set_exec(path, exec_)
        except OSError as exc:
            failed(path, from_oserror(exc, f"change the mode of {_show(ws, path)}"))
            continue
        result.written += 1
    if not plan.write:
        return
    modes = [m.strip() for m in str(ws.setting("cache.type")).split(",") if m.strip()]
    advance = progress.task("Checking out", len(plan.write))
    made: set[str] = set()
    keys: list[tuple[StatKey, str]] = []  # list.append is atomic: the workers share it

    def one(item: tuple[str, TreeEntry]) -> None:
        path, entry = item
        try:
            keys.append((place(ws.odb, entry, Path(path), modes, made), entry.hash))
        except (CorruptObjectError, MissingObjectError, LinkError) as exc:
            failed(path, exc)
        except OSError as exc:
            failed(path, from_oserror(exc, f"write {_show(ws, path)}"))
        advance(1)

    def batch(items: list[tuple[str, TreeEntry]]) -> None:
        try:
            stats = place_packed_batch(ws.odb, items)
        except (CorruptObjectError, MissingObjectError, OSError):
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


def _make_folders(files) -> set[str]:
    made = set()
    for folder in sorted({os.path.dirname(p) for p in files}):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:
            continue  # each file there then fails on its own, with its path
        made.add(folder)
    return made


def _show(ws: Workspace, path: str | Path) -> str:
    return Path(path).relative_to(ws.root).as_posix()


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
