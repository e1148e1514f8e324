"""Garbage collection: drop objects nobody keeps, but never young ones.

The grace period is what makes gc safe next to a running add or push: an
object written in the last ``grace_seconds`` (by mtime) may belong to a
pointer file that is not committed yet, so it stays. Packs holding garbage are
rewritten with only their kept objects (new pack first, old index deleted
last), or dropped whole when nothing in them is kept.

    >>> collect(odb, keep={oid_a, oid_b}, grace_seconds=0, dry_run=True)  # doctest: +SKIP
    GcResult(removed=[...], bytes=5120)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from loom import atomic
from loom._types import Oid
from loom.objects.odb import PACK_MAX, ObjectDB


@dataclass
class GcResult:
    removed: list[Oid] = field(default_factory=list)
    bytes: int = 0


def collect(
    odb: ObjectDB, keep: set[Oid], *, grace_seconds: float = 3600, dry_run: bool = False
) -> GcResult:
    """Remove every object not in ``keep`` whose file is older than ``grace_seconds``."""
    cutoff = time.time() - grace_seconds
    result = GcResult()
    _collect_loose(odb, keep, cutoff, dry_run, result)
    _collect_packs(odb, keep, cutoff, dry_run, result)
    if not dry_run:
        _sweep_temps(odb, cutoff)
        compact(odb)
    return result


def compact(odb: ObjectDB, *, min_packs: int = 8) -> int:
    """Merge small packs (under a quarter of PACK_MAX) once there are ``min_packs`` of them.

    Many small adds and pulls leave many small packs, and each costs an index
    read on load. The merged pack is complete before the old ones are dropped,
    so a kill leaves duplicates (merged again next time), never a lost object.
    Returns the number of packs merged away.
    """
    odb.packs.refresh(force=True)
    small = [p for p in odb.packs.packs.values() if p.size < PACK_MAX // 4]
    if len(small) < min_packs:
        return 0
    small.sort(key=lambda p: p.id)
    merged = 0
    group: list = []
    size = 0
    for pack in [*small, None]:
        if pack is not None and size + pack.size <= PACK_MAX:
            group.append(pack)
            size += pack.size
            continue
        if len(group) > 1:
            oids = list(dict.fromkeys(e.oid for p in group for e in p.entries))
            odb.packs.write(odb.read_many(oids), odb.tmp)
            for old in group:
                odb.packs.drop(old)
            merged += len(group)
        group, size = ([pack], pack.size) if pack is not None else ([], 0)
    return merged


def _collect_loose(odb: ObjectDB, keep: set[Oid], cutoff: float, dry_run: bool, out) -> None:
    for oid in list(odb.iter_loose()):
        if oid in keep:
            continue
        try:
            st = os.stat(odb.path(oid))
        except FileNotFoundError:
            continue
        if st.st_mtime > cutoff:
            continue
        if not dry_run:
            odb._remove_loose(oid)
        out.removed.append(oid)
        out.bytes += st.st_size


def _collect_packs(odb: ObjectDB, keep: set[Oid], cutoff: float, dry_run: bool, out) -> None:
    odb.packs.refresh(force=True)
    loose_removed = set(out.removed)
    for pack in list(odb.packs.packs.values()):
        try:
            if os.stat(pack.idx_path).st_mtime > cutoff:
                continue  # young pack: a concurrent add may be about to reference it
        except FileNotFoundError:
            continue
        garbage = [e for e in pack.entries if e.oid not in keep]
        if not garbage:
            continue
        if not dry_run:
            odb.repack(pack, keep=lambda o: o in keep)
        for e in garbage:
            if e.oid not in loose_removed:
                out.removed.append(e.oid)
            out.bytes += e.size


def _sweep_temps(odb: ObjectDB, cutoff: float) -> None:
    """Temp files and index-less packs left by killed processes, once they are old."""
    candidates: list[Path] = []
    if odb.tmp.is_dir():
        candidates += list(odb.tmp.iterdir())
    if odb.packs.dir.is_dir():
        names = set(os.listdir(odb.packs.dir))
        for name in names:
            orphan = name.endswith(".pack") and name[:-5] + ".idx" not in names
            if orphan or atomic.is_temp(name):
                candidates.append(odb.packs.dir / name)
    for p in candidates:
        try:
            if p.is_file() and p.stat().st_mtime <= cutoff:
                p.unlink()
        except FileNotFoundError:
            pass
