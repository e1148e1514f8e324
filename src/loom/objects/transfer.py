"""push and pull: move objects between a local store and a remote, in packs and in parallel.

Small objects travel in pack files (one PUT / one ranged GET per pack, not per
object); big ones travel loose. On push each pack is uploaded before its index,
so a remote never shows a pack it doesn't fully have. On pull every object is
hashed before it enters the cache, and a bad one is reported with its remote path.

    >>> result = push(odb, open_remote("s3://bucket/loom"), oids)  # doctest: +SKIP
    >>> result.transferred, result.skipped                         # doctest: +SKIP
    (20000, 0)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from loom._types import Oid
from loom.errors import CorruptObjectError, MissingObjectError
from loom.objects.hashing import default_jobs
from loom.objects.odb import PACK_MAX, PACK_THRESHOLD, ObjectDB
from loom.objects.remote import Remote

OnDone = Callable[[int], None] | None
_MIN_PACK = 4 * 1024 * 1024  # below this a pack is not worth splitting for parallel upload


@dataclass
class TransferResult:
    transferred: int = 0
    skipped: int = 0
    bytes: int = 0
    failed: list[tuple[Oid, str]] = field(default_factory=list)


def index_cache(odb: ObjectDB, remote: Remote) -> Path:
    """Where verified copies of this remote's pack indexes are kept."""
    key = hashlib.sha256(remote.url.encode()).hexdigest()[:16]
    return odb.root / "remotes" / key


def push(
    odb: ObjectDB,
    remote: Remote,
    oids: Iterable[Oid],
    *,
    jobs: int | None = None,
    on_done: OnDone = None,
) -> TransferResult:
    """Send the objects the remote lacks. MissingObjectError if the cache lacks some."""
    from loom.objects.push import run_push

    wanted = list(dict.fromkeys(oids))
    index, _ = remote.load_index(index_cache(odb, remote))
    need = remote.missing(wanted, index)
    result = TransferResult(skipped=len(wanted) - len(need))
    if on_done and result.skipped:
        on_done(result.skipped)
    absent = odb.missing(need)
    run_push(
        odb,
        remote,
        [o for o in wanted if o in need and o not in absent],
        result,
        jobs=jobs or default_jobs(),
        on_done=on_done,
    )
    if absent:
        result.failed.extend((o, "not in the local cache") for o in sorted(absent))
        raise MissingObjectError(
            f"{len(absent)} object(s) to push are not in the cache at {odb.root}: {_few(absent)}.",
            hint="Run `loom fsck`, then `loom add` the files again (or `loom pull` them).",
            oids=sorted(absent),
            result=result,
        )
    return result


def pull(
    odb: ObjectDB,
    remote: Remote,
    oids: Iterable[Oid],
    *,
    jobs: int | None = None,
    on_done: OnDone = None,
) -> TransferResult:
    """Fetch the objects the cache lacks, verifying each before it is installed."""
    from loom.objects.pull import run_pull

    wanted = list(dict.fromkeys(oids))
    need = odb.missing(wanted)
    result = TransferResult(skipped=len(wanted) - len(need))
    if on_done and result.skipped:
        on_done(result.skipped)
    if not need:
        return result
    index, bad_indexes = remote.load_index(index_cache(odb, remote))
    corrupt, absent = run_pull(
        odb,
        remote,
        [o for o in wanted if o in need],
        index,
        result,
        jobs=jobs or default_jobs(),
        on_done=on_done,
    )
    _raise_pull_errors(remote, result, corrupt, absent, bad_indexes)
    return result


def _raise_pull_errors(remote, result, corrupt, absent, bad_indexes) -> None:
    if corrupt:
        first = corrupt[0]
        raise CorruptObjectError(
            f"{len(corrupt)} object(s) on remote {remote.url} are corrupt: "
            + "; ".join(e.message for e in corrupt[:3])
            + (" …" if len(corrupt) > 3 else ""),
            hint="Push them again from a workspace whose `loom fsck` is clean; "
            "nothing corrupt was installed in the cache.",
            oid=first.fields.get("oid"),
            path=first.fields.get("path"),
            errors=corrupt,
            result=result,
        )
    if absent and bad_indexes:
        raise CorruptObjectError(
            f"{len(absent)} object(s) could not be pulled from {remote.url}, and "
            f"{len(bad_indexes)} pack index(es) there are corrupt: "
            + "; ".join(e.message for e in bad_indexes[:3]),
            hint="Push the objects again from a workspace whose `loom fsck` is clean.",
            path=bad_indexes[0].fields.get("path"),
            oids=sorted(absent),
            result=result,
        )
    if absent:
        raise MissingObjectError(
            f"{len(absent)} object(s) are not on remote {remote.url}: {_few(absent)}.",
            hint="Run `loom push` from a workspace that has them, or check the remote "
            "with `loom remote list`.",
            oids=sorted(absent),
            result=result,
        )


def _few(oids: Iterable[Oid], n: int = 5) -> str:
    items = sorted(oids)
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def groups_by_size(oids: list[Oid], sizes: dict[Oid, int], jobs: int) -> list[list[Oid]]:
    """Split small objects into about ``jobs`` packs (for parallel upload), each ≤ PACK_MAX."""
    total = sum(sizes[o] for o in oids)
    target = max(_MIN_PACK, min(PACK_MAX, -(-total // max(1, jobs))))
    out: list[list[Oid]] = []
    group: list[Oid] = []
    acc = 0
    for oid in oids:
        group.append(oid)
        acc += sizes[oid]
        if acc >= target:
            out.append(group)
            group, acc = [], 0
    if group:
        out.append(group)
    return out


def is_small(size: int) -> bool:
    return size < PACK_THRESHOLD
