"""fsck: hash every object in a store and report each one whose bytes don't match its name."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from loom.errors import CorruptObjectError
from loom.objects.hashing import hash_bytes, hash_file
from loom.objects.packset import Pack

if TYPE_CHECKING:
    from loom.objects.odb import ObjectDB, OnDone

_HINT = "Remove it with `loom gc` or re-add it, then `loom pull` to refetch it from the remote."


def fsck(odb: ObjectDB, *, jobs: int, on_done: OnDone) -> list[CorruptObjectError]:
    """Loose objects are hashed in threads; each pack is read once and sliced."""
    odb.packs.refresh(force=True)
    problems: list[CorruptObjectError] = list(odb.packs.bad.values())
    loose = list(odb.iter_loose())
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        for err in pool.map(lambda oid: _check_loose(odb, oid), loose):
            if err:
                problems.append(err)
            if on_done:
                on_done(1)
        for errs in pool.map(_check_pack, odb.packs.packs.values()):
            problems.extend(errs)
    if on_done:
        on_done(sum(len(p.entries) for p in odb.packs.packs.values()))
    return problems


def _check_loose(odb: ObjectDB, oid: str) -> CorruptObjectError | None:
    path = odb.path(oid)
    try:
        actual = hash_file(path)
    except FileNotFoundError:
        return None  # removed by a concurrent gc: not corruption
    if actual == oid:
        return None
    return CorruptObjectError(
        f"Corrupt object {path}: its bytes hash to {actual}.", hint=_HINT, oid=oid, path=str(path)
    )


def _check_pack(pack: Pack) -> list[CorruptObjectError]:
    try:
        data = memoryview(pack.pack_path.read_bytes())
    except FileNotFoundError:
        return [
            CorruptObjectError(
                f"Pack {pack.pack_path} is missing but its index {pack.idx_path} is present.",
                hint=_HINT,
                path=str(pack.pack_path),
            )
        ]
    out = []
    for e in pack.entries:
        chunk = data[e.offset : e.offset + e.size]
        if len(chunk) == e.size and hash_bytes(chunk) == e.oid:
            continue
        out.append(
            CorruptObjectError(
                f"Corrupt object {e.oid} in pack {pack.pack_path} at offset {e.offset}: "
                "its bytes do not hash to its name.",
                hint=_HINT,
                oid=e.oid,
                path=str(pack.pack_path),
            )
        )
    return out
