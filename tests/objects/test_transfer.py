"""push/pull against a real local directory and moto's real S3 server."""

from __future__ import annotations

import os

import pytest

from loom.errors import CorruptObjectError, MissingObjectError
from loom.objects import PACK_THRESHOLD, ObjectDB, hash_bytes, open_remote, pull, push
from loom.objects.remote import Remote
from tests.objects.helpers import make_files


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def remote(request, tmp_path) -> Remote:
    if request.param == "local":
        return open_remote(str(tmp_path / "remote"))
    s3_env = request.getfixturevalue("s3_env")
    return open_remote(f"s3://{s3_env['bucket']}/loom", endpoint_url=s3_env["endpoint_url"])


@pytest.fixture
def filled(tmp_path):
    """A cache with 400 small (packed) objects and 3 big (loose) ones."""
    odb = ObjectDB(tmp_path / "cache")
    items = make_files(tmp_path / "src", 400)
    for i in range(3):
        big = tmp_path / f"big{i}.bin"
        big.write_bytes(os.urandom(PACK_THRESHOLD + 1000 * i))
        items.append((big, hash_bytes(big.read_bytes()), big.stat().st_size))
    odb.add_files(items)
    return odb, [o for _, o, _ in items], {o: p.read_bytes() for p, o, _ in items}


def _remote_files(remote: Remote) -> list[str]:
    return [p for p in remote.fs.find(remote.root) if not p.endswith("/")]


def _flip_remote(remote: Remote, path: str, offset: int) -> None:
    data = bytearray(remote.fs.cat_file(path))
    data[offset] ^= 1
    if remote.local:
        os.chmod(path, 0o644)
    remote.fs.pipe_file(path, bytes(data))


def test_push_then_pull_round_trip(tmp_path, remote, filled):
    odb, oids, content = filled
    done = []
    res = push(odb, remote, oids, jobs=4, on_done=done.append)
    assert (res.transferred, res.skipped, res.failed) == (len(oids), 0, [])
    assert sum(done) == len(oids) and res.bytes >= sum(len(b) for b in content.values())
    # small objects travel in packs: a handful of files, not one PUT per object
    files = _remote_files(remote)
    assert len(files) <= 2 * 4 + 3, files
    assert not any(f.endswith(".tmp") for f in files)

    again = push(odb, remote, oids)
    assert (again.transferred, again.skipped) == (0, len(oids))

    fresh = ObjectDB(tmp_path / "fresh")
    res = pull(fresh, remote, oids, jobs=4)
    assert (res.transferred, res.skipped) == (len(oids), 0)
    assert all(fresh.read(o) == content[o] for o in oids)
    assert fresh.fsck() == []
    assert pull(fresh, remote, oids).skipped == len(oids)


def test_push_sends_only_what_the_remote_lacks(tmp_path, remote, filled):
    odb, oids, _ = filled
    push(odb, remote, oids[:100])
    res = push(odb, remote, oids)
    assert (res.transferred, res.skipped) == (len(oids) - 100, 100)


def test_pull_fetches_only_a_subset_by_ranged_reads(tmp_path, remote, filled):
    odb, oids, content = filled
    push(odb, remote, oids)
    fresh = ObjectDB(tmp_path / "fresh")
    pick = oids[::37]
    res = pull(fresh, remote, pick)
    assert res.transferred == len(pick)
    assert sorted(fresh.iter_oids()) == sorted(pick)
    assert all(fresh.read(o) == content[o] for o in pick)


def test_pull_of_objects_the_remote_lacks_lists_them(tmp_path, remote, filled):
    odb, oids, _ = filled
    push(odb, remote, oids[:10])
    ghosts = ["ab" * 32, "cd" * 32]
    fresh = ObjectDB(tmp_path / "fresh")
    with pytest.raises(MissingObjectError) as exc:
        pull(fresh, remote, oids[:10] + ghosts)
    assert all(g in exc.value.message for g in ghosts) and "loom push" in exc.value.hint
    assert fresh.missing(oids[:10]) == set()  # what was there was installed
    assert exc.value.fields["result"].transferred == 10


def test_corrupt_packed_object_on_remote_is_named_and_not_installed(tmp_path, remote, filled):
    odb, oids, content = filled
    small = [o for o in oids if len(content[o]) < PACK_THRESHOLD]
    push(odb, remote, small)
    index, _ = remote.load_index()
    victim = small[5]
    pack_id, offset, _ = index[victim]
    _flip_remote(remote, remote.pack_path(pack_id), offset + 1)

    fresh = ObjectDB(tmp_path / "fresh")
    with pytest.raises(CorruptObjectError) as exc:
        pull(fresh, remote, small)
    assert remote.display(remote.pack_path(pack_id)) in exc.value.message
    assert exc.value.fields["oid"] == victim and exc.value.hint
    assert fresh.missing(small) == {victim}
    assert fresh.fsck() == []


def test_corrupt_loose_object_on_remote_is_named_and_not_installed(tmp_path, remote, filled):
    odb, oids, content = filled
    big = [o for o in oids if len(content[o]) >= PACK_THRESHOLD]
    push(odb, remote, big)
    _flip_remote(remote, remote.path(big[0]), 100)
    fresh = ObjectDB(tmp_path / "fresh")
    with pytest.raises(CorruptObjectError) as exc:
        pull(fresh, remote, big)
    assert remote.display(remote.path(big[0])) in exc.value.message
    assert fresh.missing(big) == {big[0]}
    assert not list(fresh.tmp.iterdir())  # the bad download was thrown away


def test_push_of_objects_the_cache_lacks_sends_the_rest_then_says_so(tmp_path, remote, filled):
    odb, oids, _ = filled
    ghost = "ef" * 32
    with pytest.raises(MissingObjectError, match=ghost) as exc:
        push(odb, remote, [*oids[:5], ghost])
    assert exc.value.fields["result"].transferred == 5
    assert remote.missing(oids[:5], remote.load_index()[0]) == set()


def test_push_refuses_to_spread_a_corrupt_local_object(tmp_path, filled):
    from tests.objects.helpers import flip_byte

    odb, oids, content = filled
    big = next(o for o in oids if len(content[o]) >= PACK_THRESHOLD)
    flip_byte(odb.path(big), 10)
    remote = open_remote(str(tmp_path / "remote"))
    with pytest.raises(CorruptObjectError, match=str(odb.path(big))):
        push(odb, remote, [big])
    assert remote.missing([big], remote.load_index()[0]) == {big}


def test_a_pack_without_its_index_is_invisible(tmp_path, filled):
    """The index is uploaded last: a pack whose upload stopped before it is never used."""
    odb, oids, content = filled
    remote = open_remote(str(tmp_path / "remote"))
    push(odb, remote, oids[:50])
    for idx in (tmp_path / "remote" / "packs").glob("*.idx"):
        idx.unlink()
    assert remote.missing(oids[:50], remote.load_index()[0]) == set(oids[:50])
    res = push(odb, remote, oids[:50])
    assert res.transferred == 50
    fresh = ObjectDB(tmp_path / "fresh")
    pull(fresh, remote, oids[:50])
    assert all(fresh.read(o) == content[o] for o in oids[:50])


def test_push_of_a_whole_corrupt_local_pack_is_refused(tmp_path, filled):
    from tests.objects.helpers import flip_byte

    odb, oids, content = filled
    pack = next(iter(odb.packs.packs.values()))
    victim = pack.entries[3]
    flip_byte(pack.pack_path, victim.offset)
    remote = open_remote(str(tmp_path / "remote"))
    small = [o for o in oids if len(content[o]) < PACK_THRESHOLD]
    with pytest.raises(CorruptObjectError, match=str(pack.pack_path)):
        push(ObjectDB(odb.root), remote, small)
    assert not list((tmp_path / "remote").rglob("*.idx"))  # nothing of it became visible


def test_a_damaged_cached_remote_index_is_fetched_again(tmp_path, filled):
    from loom.objects.transfer import index_cache

    odb, oids, _ = filled
    remote = open_remote(str(tmp_path / "remote"))
    push(odb, remote, oids)
    cached = list(index_cache(odb, remote).glob("*.idx"))
    assert cached
    for p in cached:
        p.write_bytes(b"garbage")
    assert push(odb, remote, oids).skipped == len(oids)
    assert all(decode_ok(p) for p in index_cache(odb, remote).glob("*.idx"))


def decode_ok(path) -> bool:
    from loom.objects.pack import decode_index

    return bool(decode_index(path.read_bytes(), str(path)))


def test_corrupt_index_on_remote_is_named_by_pull(tmp_path, remote, filled):
    odb, oids, content = filled
    small = [o for o in oids if len(content[o]) < PACK_THRESHOLD]
    push(odb, remote, small)
    idx = next(p for p in _remote_files(remote) if p.endswith(".idx"))
    _flip_remote(remote, idx, 30)
    fresh = ObjectDB(tmp_path / "fresh")
    with pytest.raises(CorruptObjectError) as exc:
        pull(fresh, remote, small)
    assert remote.display(idx) in exc.value.message
    assert fresh.fsck() == []


def test_pulling_a_few_objects_stores_them_loose(tmp_path, filled):
    odb, oids, content = filled
    remote = open_remote(str(tmp_path / "remote"))
    push(odb, remote, oids)
    fresh = ObjectDB(tmp_path / "fresh")
    pull(fresh, remote, oids[:3])
    assert not (fresh.root / "packs").exists()
    assert all(fresh.path(o).read_bytes() == content[o] for o in oids[:3])
