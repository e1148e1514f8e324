"""Whether a pointer agrees with the data its hash names (a hand-edited one may not).

A pointer's ``size``, ``files`` and ``kind`` are facts about its hash's data.
They are checked where that data is already at hand, so the check adds no
I/O: the workspace scan when it holds the pointer's hash (its size, file
count and kind), a folder's listing once loaded, or a file object's size.
``status`` shows a contradicting pointer as invalid; ``checkout`` refuses it.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from loom.data.pointer import SUFFIX, Pointer
from loom.errors import CorruptObjectError, PointerError

if TYPE_CHECKING:
    from loom.data.scan import Snapshot
    from loom.objects.odb import ObjectDB
    from loom.objects.tree import Tree

_LISTING_MAX = 64 << 20  # a listing of ~500k files; a bigger object is taken as a file

_WHAT = {"file": "a file", "dir": "a folder"}


def against_snapshot(ptr: Pointer, snap: Snapshot) -> str | None:
    """Why ``ptr`` contradicts ``snap``, whose hash is the pointer's; None if it agrees."""
    if snap.kind != ptr.kind:
        return f"it says kind: {ptr.kind}, but its hash names {_WHAT.get(snap.kind, snap.kind)}"
    return _counts(ptr, snap.size, snap.files)


def against_tree(ptr: Pointer, tree: Tree) -> str | None:
    """Why the folder pointer ``ptr`` contradicts its listing ``tree``; None if it agrees."""
    return _counts(ptr, tree.size, len(tree.entries))


def against_object(odb: ObjectDB, ptr: Pointer) -> str | None:
    """Why the file pointer ``ptr`` contradicts its cached object; None if it agrees.

    One size lookup; only when the size is wrong is the object read, to tell a
    pointer whose kind was edited (its hash names a folder listing) from a wrong size.
    MissingObjectError when the object isn't cached.
    """
    size = odb.size(ptr.hash)
    why = _counts(ptr, size, None)
    if why is not None and size <= _LISTING_MAX and _is_listing(odb.read(ptr.hash)):
        return "it says kind: file, but its hash names a folder"
    return why


def _is_listing(data: bytes) -> bool:
    from loom.objects.tree import Tree

    try:
        Tree.from_bytes(data)
    except CorruptObjectError:
        return False
    return True


def _counts(ptr: Pointer, size: int, files: int | None) -> str | None:
    if size != ptr.size:
        return f"it says size: {ptr.size}, but the data its hash names is {size} bytes"
    if ptr.kind == "dir" and files is not None and files != ptr.files:
        return f"it says files: {ptr.files}, but the folder its hash names holds {files}"
    return None


def invalid(pointer_rel: str, why: str) -> PointerError:
    """The error for a pointer file that contradicts its data, with both ways to fix it."""
    rel = pointer_rel[: -len(SUFFIX)]
    return PointerError(
        f"Pointer file {pointer_rel} contradicts the data it names: {why}.",
        hint=f"If {rel} in the workspace is right, run `loom add {shlex.quote(rel)}`; "
        f"otherwise restore the pointer with `git checkout -- {shlex.quote(pointer_rel)}`.",
        path=pointer_rel,
        reason=why,
    )
