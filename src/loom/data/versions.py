"""Versions to move: pointers (from the workspace and git history) and the objects each needs.

A version is a pointer's hash: one object for a file; for a folder, its tree
object (the listing) plus every file it lists. An old version's listing is
often not in the cache (a pull fetches the checked-out version only), so it
is looked for on the remote too; a version whose listing or objects are in
neither place can't be moved, and is reported by path and short hash.

    >>> objects, unlisted = version_objects(ws, remote, pointers)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from loom._types import Oid, StrPath
from loom.data.history import commit_pointers
from loom.data.pointer import Pointer
from loom.data.select import select_pointers
from loom.data.trees import load_tree
from loom.data.workspace import Workspace
from loom.errors import MissingObjectError, ObjectError
from loom.objects import transfer
from loom.objects.remote import Remote


def pointers_to_push(
    ws: Workspace,
    paths: Sequence[StrPath] = (),
    *,
    all_commits: bool = False,
    all_tags: bool = False,
    all_branches: bool = False,
) -> list[Pointer]:
    """The workspace's pointers (or those for ``paths``), plus those git history names.

    With ``paths``, history adds only versions of those same paths.
    """
    pointers = select_pointers(ws, paths)
    wanted = {p.rel for p in pointers} if paths else None
    for flag, which in ((all_commits, "commits"), (all_tags, "tags"), (all_branches, "branches")):
        if flag:
            found = commit_pointers(ws, which)  # type: ignore[arg-type]
            pointers += [p for p in found if wanted is None or p.rel in wanted]
    return list(dict.fromkeys(pointers))


def version_objects(
    ws: Workspace, remote: Remote, pointers: Iterable[Pointer]
) -> tuple[dict[Pointer, list[Oid]], list[Pointer]]:
    """Every object of each pointer, and the folders whose listing neither place has.

    Listings missing from the cache are fetched from ``remote`` (tree objects are
    small, and verified as they arrive).
    """
    pointers = list(pointers)
    trees = {p.hash for p in pointers if p.kind == "dir"}
    unlisted = sorted(ws.odb.missing(trees))
    if unlisted:
        try:
            transfer.pull(ws.odb, remote, unlisted)
        except ObjectError:
            pass  # missing or corrupt there: those folders are reported as unlisted
    objects: dict[Pointer, list[Oid]] = {}
    missing: list[Pointer] = []
    for ptr in pointers:
        if ptr.kind == "file":
            objects[ptr] = [ptr.hash]
            continue
        try:
            tree = load_tree(ws.odb, ptr.hash, ptr.pointer_rel)
        except MissingObjectError:
            missing.append(ptr)
            continue
        objects[ptr] = [ptr.hash, *(e.hash for e in tree.entries)]
    return objects, missing


def short(ptr: Pointer) -> str:
    return f"{ptr.rel}@{ptr.hash[:8]}"


def lost_error(
    unlisted: list[Pointer], absent: dict[Pointer, int], remote: str, **fields
) -> MissingObjectError:
    """The versions neither the cache nor ``remote`` fully holds, as one error."""
    parts = [f"the folder listing of {short(p)}" for p in unlisted]
    parts += [f"{n} object(s) of {short(p)}" for p, n in absent.items()]
    shown = "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more" if len(parts) > 5 else "")
    return MissingObjectError(
        f"{len(parts)} version(s) are neither in the cache nor on remote {remote}: {shown}. "
        "Everything else was pushed.",
        hint="Push them from a clone that still has them (`loom push --all-commits` there), "
        "or `loom fsck` here if they should be in this cache.",
        versions=[short(p) for p in [*unlisted, *absent]],
        **fields,
    )
