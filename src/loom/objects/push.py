"""The workers of ``transfer.push``: one task per pack of small objects or per big object."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed

from loom._types import Oid
from loom.errors import CorruptObjectError
from loom.objects.hashing import hash_bytes
from loom.objects.odb import ObjectDB
from loom.objects.pack import build_pack, idx_name, index_pack_id
from loom.objects.packset import Pack, corrupt_in_pack
from loom.objects.remote import Remote, _save
from loom.objects.transfer import OnDone, TransferResult, groups_by_size, index_cache, is_small


def run_push(
    odb: ObjectDB,
    remote: Remote,
    oids: list[Oid],
    result: TransferResult,
    *,
    jobs: int,
    on_done: OnDone,
) -> None:
    sizes = odb.sizes(oids)
    small = [o for o in oids if is_small(sizes[o])]
    big = [o for o in oids if not is_small(sizes[o])]
    whole, rest = _whole_packs(odb, small)
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        futs = [pool.submit(_push_whole, odb, remote, p) for p in whole]
        futs += [pool.submit(_push_pack, odb, remote, g) for g in groups_by_size(rest, sizes, jobs)]
        futs += [pool.submit(_push_loose, odb, remote, o) for o in big]
        for fut in as_completed(futs):
            n, nbytes = fut.result()
            result.transferred += n
            result.bytes += nbytes
            if on_done:
                on_done(n)


def _whole_packs(odb: ObjectDB, small: list[Oid]) -> tuple[list[Pack], list[Oid]]:
    """Local packs whose every object is to be sent travel as they are: no re-packing."""
    need = set(small)
    whole = []
    for pack in list(odb.packs.packs.values()):
        if pack.entries and all(e.oid in need for e in pack.entries):
            whole.append(pack)
            need.difference_update(e.oid for e in pack.entries)
    return whole, [o for o in small if o in need]


def _push_whole(odb: ObjectDB, remote: Remote, pack: Pack) -> tuple[int, int]:
    data = pack.pack_path.read_bytes()
    view = memoryview(data)
    for e in pack.entries:  # never spread a corrupt object to everyone who pulls
        if hash_bytes(view[e.offset : e.offset + e.size]) != e.oid:
            raise corrupt_in_pack(e.oid, pack, e.offset)
    idx = pack.idx_path.read_bytes()
    if index_pack_id(idx) != pack.id:
        raise CorruptObjectError(
            f"Pack index {pack.idx_path} changed on disk while it was being pushed.",
            hint="Run `loom fsck`, then push again.",
            path=str(pack.idx_path),
        )
    remote.put_bytes(data, remote.pack_path(pack.id))
    remote.put_bytes(idx, remote.idx_path(pack.id))  # last: this makes the pack visible
    _save(index_cache(odb, remote), idx_name(pack.id), idx)
    return len(pack.entries), len(data)


def _push_pack(odb: ObjectDB, remote: Remote, group: list[Oid]) -> tuple[int, int]:
    objects = list(odb.read_many(group))  # verified as read
    pack, idx, pack_id = build_pack(objects)
    remote.put_bytes(pack, remote.pack_path(pack_id))
    remote.put_bytes(idx, remote.idx_path(pack_id))  # last: this makes the pack visible
    _save(index_cache(odb, remote), idx_name(pack_id), idx)
    return len(group), len(pack)


def _push_loose(odb: ObjectDB, remote: Remote, oid: Oid) -> tuple[int, int]:
    if odb.is_packed(oid):
        data = odb.read(oid)
        remote.put_bytes(data, remote.path(oid))
        return 1, len(data)
    odb.verify(oid)  # never spread a corrupt object to everyone who pulls
    remote.put_file(odb.path(oid), remote.path(oid))
    return 1, odb.size(oid)
