"""Pack files and fsck: a flipped byte anywhere is found and reported with its path."""

from __future__ import annotations

import pytest

from loom.errors import CorruptObjectError
from loom.objects import ObjectDB
from loom.objects.pack import PACK_MAGIC, build_pack, decode_index, encode_index
from tests.objects.helpers import flip_byte, make_files


def test_index_round_trip_and_deterministic_name():
    rows = [("cd" * 32, 100, 7), ("ab" * 32, 12, 88)]
    data, pack_id = encode_index(rows)
    entries = decode_index(data, "x.idx")
    assert [(e.oid, e.offset, e.size) for e in entries] == sorted(rows)
    assert encode_index(list(reversed(rows)))[1] == pack_id


@pytest.mark.parametrize("where", [0, 9, 20, -1])
def test_a_damaged_index_is_rejected(where):
    data, _ = encode_index([("ab" * 32, 12, 3)])
    bad = bytearray(data)
    bad[where] ^= 1
    with pytest.raises(CorruptObjectError, match=r"Corrupt pack index x\.idx"):
        decode_index(bytes(bad), "x.idx")
    with pytest.raises(CorruptObjectError, match="truncated"):
        decode_index(data[:10], "x.idx")


def test_build_pack_layout():
    pack, idx, _ = build_pack([("bb" * 32, b"two"), ("aa" * 32, b"one")])
    assert pack == PACK_MAGIC + b"onetwo"
    assert [(e.offset, e.size) for e in decode_index(idx, "i")] == [(12, 3), (15, 3)]


@pytest.fixture
def packed(tmp_path):
    odb = ObjectDB(tmp_path / "cache")
    items = make_files(tmp_path / "src", 40)
    odb.add_files(items)
    return odb, items


def test_flipped_byte_in_a_pack_is_caught_by_read_verify_and_fsck(packed, tmp_path):
    odb, items = packed
    pack = next(iter(odb.packs.packs.values()))
    victim = pack.entries[7]
    flip_byte(pack.pack_path, victim.offset + 3)

    fresh = ObjectDB(odb.root)  # a new process: nothing cached in memory
    for call in (fresh.read, fresh.verify, fresh.open):
        with pytest.raises(CorruptObjectError) as exc:
            call(victim.oid)
        assert str(pack.pack_path) in exc.value.message and f"offset {victim.offset}" in str(
            exc.value
        )
    with pytest.raises(CorruptObjectError):
        fresh.write_to(victim.oid, tmp_path / "out", "copy")
    assert not (tmp_path / "out").exists()
    problems = fresh.fsck()
    assert [p.fields["oid"] for p in problems] == [victim.oid]
    assert problems[0].fields["path"] == str(pack.pack_path)
    others = [o for _, o, _ in items if o != victim.oid]
    assert all(fresh.read(o) for o in others)  # the rest of the pack stays usable


def test_flipped_byte_in_an_index_hides_the_pack_and_fsck_names_it(packed):
    odb, items = packed
    pack = next(iter(odb.packs.packs.values()))
    flip_byte(pack.idx_path, 40)
    fresh = ObjectDB(odb.root)
    oids = [o for _, o, _ in items]
    assert fresh.missing(oids) == set(oids)  # so `add` or `pull` can bring them back
    problems = fresh.fsck()
    assert len(problems) == 1 and str(pack.idx_path) in problems[0].message
    fresh.add_files(items)  # healing: re-adding writes a good pack
    assert fresh.missing(oids) == set()


def test_fsck_reports_a_corrupt_loose_object_with_its_path(tmp_path):
    odb = ObjectDB(tmp_path / "cache")
    good = odb.add_bytes(b"good" * 100)
    bad = odb.add_bytes(b"bad" * 100)
    flip_byte(odb.path(bad), 5)
    done = []
    problems = odb.fsck(jobs=2, on_done=done.append)
    assert [p.fields["oid"] for p in problems] == [bad]
    assert str(odb.path(bad)) in problems[0].message and problems[0].hint
    assert sum(done) == 2 and good
