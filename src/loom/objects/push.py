"""The workers of ``transfer.push``: one task per pack of small objects or per big object."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed

from loom._types import Oid
from loom.objects.odb import ObjectDB
from loom.objects.pack import build_pack, idx_name
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
    sizes = {o: odb.size(o) for o in oids}
    small = [o for o in oids if is_small(sizes[o])]
    big = [o for o in oids if not is_small(sizes[o])]
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        futs = [pool.submit(_push_pack, odb, remote, g) for g in groups_by_size(small, sizes, jobs)]
        futs += [pool.submit(_push_loose, odb, remote, o) for o in big]
        for fut in as_completed(futs):
            n, nbytes = fut.result()
            result.transferred += n
            result.bytes += nbytes
            if on_done:
                on_done(n)


def _push_pack(odb: ObjectDB, remote: Remote, group: list[Oid]) -> tuple[int, int]:
    objects = [(oid, odb.read(oid)) for oid in group]  # read() verifies each object
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
