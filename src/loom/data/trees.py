"""Reading a folder's tree object from the cache, with errors that name the pointer."""

from __future__ import annotations

from loom import paths
from loom._types import Oid
from loom.data.validity import invalid
from loom.errors import CorruptObjectError, MissingObjectError
from loom.objects.odb import ObjectDB
from loom.objects.tree import Tree


def load_tree(odb: ObjectDB, oid: Oid, pointer_rel: str) -> Tree:
    """The tree ``oid`` from ``odb``, checked against its name."""
    try:
        data = odb.read(oid)
    except MissingObjectError:
        raise MissingObjectError(
            f"The folder listing of {pointer_rel} (object {oid}) is not in the cache.",
            hint="Run `loom pull` to fetch it from the remote.",
            oid=oid,
            path=pointer_rel,
        ) from None
    from loom.objects.hashing import hash_bytes

    if hash_bytes(data) != oid:
        raise CorruptObjectError(
            f"The folder listing of {pointer_rel} is corrupt: object {odb.path(oid)} "
            "does not match its hash.",
            hint="Run `loom fsck`, then `loom pull` to fetch a good copy.",
            oid=oid,
            path=str(odb.path(oid)),
        )
    try:
        tree = Tree.from_bytes(data, oid)
    except CorruptObjectError:
        # The bytes match their name, so they are whole: they are just not a listing.
        raise invalid(pointer_rel, "it says kind: dir, but its hash names a file") from None
    for entry in tree.entries:
        _check_path(entry.path, oid, pointer_rel)
    return tree


def _check_path(path: str, oid: Oid, pointer_rel: str) -> None:
    """Trees can come from anyone who can write to a remote: never let one point outside."""
    why = paths.problem(path, strict=False)  # file names on disk may hold '\\' and newlines
    if why is not None:
        raise CorruptObjectError(
            f"The folder listing of {pointer_rel} (object {oid}) holds an unsafe path "
            f"{path!r}: {why}.",
            hint="Someone wrote a crafted tree to the remote; restore the pointer from git "
            "history and `loom push` from a trusted workspace.",
            oid=oid,
            path=pointer_rel,
        )
