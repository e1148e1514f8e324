"""gc: unkept objects go, kept and young ones stay, packs are rewritten or dropped."""

from __future__ import annotations

import os

from loom.objects import ObjectDB, collect
from tests.objects.helpers import age, make_files

HOUR = 3600


def _age_everything(odb: ObjectDB, seconds: float = 2 * HOUR) -> None:
    for oid in odb.iter_loose():
        age(odb.path(oid), seconds)
    for p in (odb.root / "packs").glob("*"):
        age(p, seconds)


def test_gc_removes_unkept_old_objects_loose_and_packed(tmp_path):
    odb = ObjectDB(tmp_path / "cache")
    items = make_files(tmp_path / "src", 60)
    odb.add_files(items[:30])
    odb.add_files(items[30:])  # a second pack
    loose_keep = odb.add_bytes(b"keep me" * 10)
    loose_drop = odb.add_bytes(b"drop me" * 10)
    _age_everything(odb)
    oids = [o for _, o, _ in items]
    keep = {*oids[:10], loose_keep}  # keeps part of pack 1, nothing of pack 2

    result = collect(odb, keep, grace_seconds=HOUR)

    dropped = set(oids[10:]) | {loose_drop}
    assert set(result.removed) == dropped and len(result.removed) == len(dropped)
    assert result.bytes == sum(s for _, o, s in items if o in dropped) + 70
    fresh = ObjectDB(odb.root)
    assert fresh.missing(keep) == set()
    assert fresh.missing(dropped) == dropped
    assert len(list((odb.root / "packs").glob("*.idx"))) == 1  # one repacked, one dropped
    assert fresh.fsck() == []
    assert collect(fresh, keep, grace_seconds=HOUR).removed == []


def test_gc_never_removes_a_young_object(tmp_path):
    odb = ObjectDB(tmp_path / "cache")
    items = make_files(tmp_path / "src", 20)
    odb.add_files(items)
    young = odb.add_bytes(b"just written")
    result = collect(odb, set(), grace_seconds=HOUR)
    assert result.removed == [] and result.bytes == 0
    assert odb.missing([young, *(o for _, o, _ in items)]) == set()


def test_gc_dry_run_reports_without_removing(tmp_path):
    odb = ObjectDB(tmp_path / "cache")
    items = make_files(tmp_path / "src", 20)
    odb.add_files(items)
    _age_everything(odb)
    before = sorted(os.listdir(odb.root / "packs"))
    result = collect(odb, {items[0][1]}, grace_seconds=HOUR, dry_run=True)
    assert len(result.removed) == 19
    assert sorted(os.listdir(odb.root / "packs")) == before
    assert odb.missing([o for _, o, _ in items]) == set()


def test_gc_sweeps_old_temp_files_and_index_less_packs(tmp_path):
    odb = ObjectDB(tmp_path / "cache")
    odb.add_bytes(b"x")
    (odb.root / "packs").mkdir()
    orphan = odb.root / "packs" / ("pack-" + "ab" * 32 + ".pack")
    orphan.write_bytes(b"half an upload")
    stale_tmp = odb.tmp / "dead.tmp"
    stale_tmp.write_bytes(b"killed mid-write")
    fresh_tmp = odb.tmp / "live.tmp"
    fresh_tmp.write_bytes(b"someone is writing this now")
    age(orphan, 2 * HOUR)
    age(stale_tmp, 2 * HOUR)
    collect(odb, set(), grace_seconds=HOUR)
    assert not orphan.exists() and not stale_tmp.exists()
    assert fresh_tmp.exists()


def test_re_adding_stored_objects_renews_their_grace_period(tmp_path):
    """A concurrent add that references old objects keeps gc away from them."""
    odb = ObjectDB(tmp_path / "cache")
    items = make_files(tmp_path / "src", 10)
    odb.add_files(items)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(100_000))
    big_oid = odb.add_file(big)
    _age_everything(odb)
    odb.add_files([*items, (big, big_oid, 100_000)])  # nothing new, but referenced again
    assert collect(odb, set(), grace_seconds=HOUR).removed == []
    _age_everything(odb)
    odb.touch([big_oid])
    removed = collect(odb, set(), grace_seconds=HOUR).removed
    assert sorted(removed) == sorted(o for _, o, _ in items)


def test_gc_merges_many_small_packs_into_one(tmp_path):
    from loom.objects.gc import compact

    odb = ObjectDB(tmp_path / "cache")
    items = make_files(tmp_path / "src", 120)
    for i in range(0, 120, 10):  # twelve small adds -> twelve small packs
        odb.add_files(items[i : i + 10])
    assert len(odb.packs.packs) == 12
    oids = [o for _, o, _ in items]
    collect(odb, set(oids), grace_seconds=HOUR)
    fresh = ObjectDB(odb.root)
    fresh.packs.refresh()
    assert len(fresh.packs.packs) == 1 and len(list((odb.root / "packs").iterdir())) == 2
    assert fresh.missing(oids) == set() and fresh.fsck() == []
    assert compact(fresh) == 0  # nothing left to merge


def test_a_few_small_files_are_stored_loose_not_as_a_tiny_pack(tmp_path):
    odb = ObjectDB(tmp_path / "cache")
    items = make_files(tmp_path / "src", 3)
    odb.add_files(items)
    assert not (odb.root / "packs").exists()
    assert all(odb.path(o).exists() for _, o, _ in items)
