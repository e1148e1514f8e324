"""ObjectDB: loose and packed objects on the real local filesystem."""

from __future__ import annotations

import os
import stat

import pytest

from loom.errors import CorruptObjectError, LinkError, MissingObjectError, ValidationError
from loom.objects import PACK_THRESHOLD, ObjectDB, hash_bytes
from tests.objects.helpers import make_files


@pytest.fixture
def odb(tmp_path):
    return ObjectDB(tmp_path / "cache")


def test_add_bytes_is_loose_read_only_and_readable(odb):
    oid = odb.add_bytes(b"hello")
    assert oid == hash_bytes(b"hello")
    p = odb.path(oid)
    assert p == odb.root / "blake3" / oid[:2] / oid[2:]
    assert p.read_bytes() == b"hello"
    assert not os.stat(p).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert odb.exists(oid) and odb.read(oid) == b"hello" and odb.size(oid) == 5
    assert not odb.is_packed(oid)


def test_add_files_packs_small_and_stores_big_loose(odb, tmp_path):
    items = make_files(tmp_path / "src", 300)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(PACK_THRESHOLD + 1))
    items.append((big, hash_bytes(big.read_bytes()), big.stat().st_size))
    done = []
    odb.add_files(items, jobs=4, on_done=done.append)

    assert sum(done) == len(items)
    packs = sorted(p.name for p in (odb.root / "packs").iterdir())
    assert len(packs) == 2 and packs[0].endswith(".idx") and packs[1].endswith(".pack")
    assert odb.path(items[-1][1]).exists()  # big one loose
    assert not odb.path(items[0][1]).exists()  # small one only packed
    for path, oid, size in items:
        assert odb.read(oid) == path.read_bytes()
        assert odb.size(oid) == size
        with odb.open(oid) as f:
            assert f.read() == path.read_bytes()
    assert odb.missing([o for _, o, _ in items]) == set()
    assert sorted(odb.iter_oids()) == sorted({o for _, o, _ in items})
    assert odb.fsck() == []


def test_add_files_skips_what_the_store_has(odb, tmp_path):
    items = make_files(tmp_path / "src", 50)
    odb.add_files(items[:20])
    done = []
    odb.add_files(items + items[:5], on_done=done.append)  # duplicates count as done too
    assert sum(done) == 55
    assert len(list((odb.root / "packs").glob("*.idx"))) == 2
    assert len(list(odb.iter_oids())) == 50
    # a second store object sees packs written by the first (as another process would)
    assert ObjectDB(odb.root).missing([o for _, o, _ in items]) == set()


def test_add_files_refuses_a_file_that_changed_since_hashing(odb, tmp_path):
    items = make_files(tmp_path / "src", 10)
    items[3][0].write_bytes(b"changed after hashing")
    with pytest.raises(CorruptObjectError, match="changed while it was being added") as exc:
        odb.add_files(items)
    assert exc.value.hint
    assert list(odb.iter_oids()) == []  # nothing half-written, not even the good ones
    assert not list((odb.root / "packs").glob("*.idx"))


def test_missing_object_errors_have_hints(odb):
    oid = "ab" * 32
    with pytest.raises(MissingObjectError) as exc:
        odb.read(oid)
    assert oid in exc.value.message and "loom pull" in exc.value.hint
    with pytest.raises(MissingObjectError):
        odb.size(oid)
    with pytest.raises(MissingObjectError):
        odb.verify(oid)
    assert odb.missing([oid]) == {oid}


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("mode", ["reflink", "copy", "hardlink", "symlink"])
def test_write_to_every_mode(odb, tmp_path, mode, packed):
    items = make_files(tmp_path / "src", 3)
    if packed:
        odb.write_pack((oid, path.read_bytes()) for path, oid, _ in items)
        assert odb.is_packed(items[1][1])
    else:
        for path, oid, _ in items:
            odb.add_file(path, oid)
    path, oid, _ = items[1]
    dest = tmp_path / "out" / "file.bin"
    dest.parent.mkdir()
    odb.write_to(oid, dest, mode)
    assert dest.read_bytes() == path.read_bytes()
    if mode == "hardlink":
        assert os.stat(dest).st_ino == os.stat(odb.path(oid)).st_ino
    elif mode == "symlink":
        assert dest.is_symlink() and dest.resolve() == odb.path(oid).resolve()
    else:
        assert not dest.is_symlink() and os.stat(dest).st_mode & stat.S_IWUSR  # a user copy
    assert [p.name for p in dest.parent.iterdir()] == ["file.bin"]  # no temp left


def test_write_to_rejects_a_bad_mode_and_a_missing_object(odb, tmp_path):
    oid = odb.add_bytes(b"x")
    with pytest.raises(ValidationError, match="Unknown link mode"):
        odb.write_to(oid, tmp_path / "a", "teleport")
    with pytest.raises(MissingObjectError):
        odb.write_to("cd" * 32, tmp_path / "b", "copy")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_write_to_says_when_a_link_mode_is_impossible(odb, tmp_path):
    oid = odb.add_bytes(b"x")
    # a hardlink from the cache to another filesystem is impossible: the caller must be told
    shm = "/dev/shm"
    if not os.path.isdir(shm) or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem to hardlink across")
    target = os.path.join(shm, f"loom-test-{os.getpid()}-{oid[:8]}")
    try:
        with pytest.raises(LinkError, match="hardlink") as exc:
            odb.write_to(oid, target, "hardlink")
        assert "cache.type" in exc.value.hint
    finally:
        if os.path.exists(target):
            os.unlink(target)


def test_remove_loose_and_packed(odb, tmp_path):
    items = make_files(tmp_path / "src", 20)
    odb.add_files(items)
    loose = odb.add_bytes(b"loose one")
    gone = items[4][1]
    odb.remove(gone)
    odb.remove(loose)
    odb.remove("ef" * 32)  # absent: no error
    assert odb.missing([gone, loose]) == {gone, loose}
    kept = [o for _, o, _ in items if o != gone]
    assert odb.missing(kept) == set()
    assert all(odb.read(o) for o in kept)
    assert len(list((odb.root / "packs").glob("*.pack"))) == 1  # old pack replaced
    assert odb.fsck() == []


def test_verify_names_the_corrupt_file(odb, tmp_path):
    from tests.objects.helpers import flip_byte

    oid = odb.add_bytes(os.urandom(100))
    odb.verify(oid)
    flip_byte(odb.path(oid), 50)
    with pytest.raises(CorruptObjectError) as exc:
        odb.verify(oid)
    assert str(odb.path(oid)) in exc.value.message and exc.value.fields["oid"] == oid
    with pytest.raises(CorruptObjectError):
        odb.read(oid)
    with pytest.raises(CorruptObjectError):  # never silently checked out
        odb.write_to(oid, tmp_path / "out", "copy")
    assert not (tmp_path / "out").exists()


def test_sizes_and_read_many_batch_loose_and_packed(odb, tmp_path):
    items = make_files(tmp_path / "src", 30)
    odb.add_files(items)
    loose = odb.add_bytes(b"L" * 10)
    oids = [o for _, o, _ in items] + [loose]
    assert odb.sizes(oids) == {**{o: s for _, o, s in items}, loose: 10}
    got = dict(odb.read_many(oids))
    assert got == {**{o: p.read_bytes() for p, o, _ in items}, loose: b"L" * 10}
    with pytest.raises(MissingObjectError):
        odb.sizes(["00" * 32])


def test_add_file_with_verify_refuses_bytes_that_do_not_match_the_oid(odb, tmp_path):
    src = tmp_path / "f.bin"
    src.write_bytes(b"actual bytes")
    with pytest.raises(CorruptObjectError, match="changed while it was being added"):
        odb.add_file(src, hash_bytes(b"bytes when it was hashed"), verify=True)
    assert list(odb.iter_oids()) == [] and not any(odb.tmp.iterdir())
    assert odb.add_file(src, verify=True) == hash_bytes(b"actual bytes")


def test_links_check_the_loose_file_even_when_a_pack_holds_a_good_copy(odb, tmp_path):
    from tests.objects.helpers import flip_byte

    data = os.urandom(300)
    oid = hash_bytes(data)
    odb.write_pack([(oid, data)])
    odb.add_bytes(data, oid, loose=True)
    flip_byte(odb.path(oid), 7)
    with pytest.raises(CorruptObjectError, match=str(odb.path(oid))):
        odb.write_to(oid, tmp_path / "link", "hardlink")
    assert not (tmp_path / "link").exists()
    odb.write_to(oid, tmp_path / "copy", "copy")  # the packed copy is good and is used
    assert (tmp_path / "copy").read_bytes() == data


def test_a_torn_loose_object_is_replaced_when_its_file_is_added_again(tmp_path):
    """add_file doesn't fsync; a copy cut short by a power loss must not be trusted."""
    import os
    import stat

    from loom.objects.hashing import hash_file
    from loom.objects.odb import ObjectDB

    src = tmp_path / "model.bin"
    src.write_bytes(os.urandom(300_000))
    odb = ObjectDB(tmp_path / "cache")
    oid = odb.add_file(src)
    for add in (lambda: odb.add_file(src), lambda: odb.add_files([(src, oid, 300_000)])):
        loose = odb.path(oid)
        os.chmod(loose, stat.S_IRUSR | stat.S_IWUSR)
        os.truncate(loose, 4096)  # what an unsynced write can look like after a power cut
        assert odb.torn(oid, 300_000)
        add()
        assert hash_file(loose) == oid and not odb.torn(oid, 300_000)
        assert os.stat(loose).st_mode & 0o222 == 0  # read-only again
