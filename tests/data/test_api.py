from __future__ import annotations

import shutil

import pytest

import loom
from loom.data.add import add
from loom.data.remotes import add_remote
from loom.data.sync import push
from loom.errors import MissingObjectError, NotFoundError
from loom.objects.hashing import hash_bytes

from .conftest import commit, make_dataset, write


@pytest.fixture
def history(ws):
    write("data/raw/a.csv", "id,label\n1,cat\n")
    write("data/raw/sub/b.txt", "b1")
    write("model.bin", b"m1")
    add(ws, ["data/raw", "model.bin"])
    commit("v1")
    write("data/raw/a.csv", "id,label\n1,cat\n2,dog\n")
    write("model.bin", b"m2")
    add(ws, ["data/raw", "model.bin"])
    commit("v2")
    return ws


def test_read_any_revision_file_or_file_in_folder(history):
    assert loom.data.read("data/raw/a.csv", rev="HEAD~1") == b"id,label\n1,cat\n"
    assert loom.data.read("data/raw/a.csv", mode="r") == "id,label\n1,cat\n2,dog\n"
    assert loom.data.read("model.bin", rev="HEAD~1") == b"m1"
    assert loom.data.read("data/raw/sub/b.txt", rev="main") == b"b1"
    with loom.data.open("model.bin") as f:
        assert f.read() == b"m2"


def test_read_from_another_folder_with_repo(history, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert loom.data.read("model.bin", rev="HEAD~1", repo=history.root) == b"m1"


def test_read_fetches_from_the_remote_when_not_cached(history, tmp_path):
    add_remote(history, "storage", str(tmp_path / "remote"), default=True)
    # push v1 as well as v2: check v1's pointers out of git and push them
    push(history)
    shutil.rmtree(history.odb.root)
    assert loom.data.read("data/raw/a.csv") == b"id,label\n1,cat\n2,dog\n"
    assert history.odb.exists(loom.data.info("model.bin").hash) is False  # only what was read


def test_read_errors(history):
    with pytest.raises(NotFoundError, match="not tracked"):
        loom.data.read("nope.csv")
    with pytest.raises(NotFoundError, match="not in the tracked folder"):
        loom.data.read("data/raw/zzz.csv")
    with pytest.raises(NotFoundError, match="not a git revision"):
        loom.data.read("model.bin", rev="no-such-rev")
    shutil.rmtree(history.odb.root)
    with pytest.raises(MissingObjectError) as err:
        loom.data.read("model.bin")
    assert "loom remote add" in err.value.hint


def test_info_tracked_changed_and_untracked(history):
    tracked = loom.data.info("data/raw")
    assert tracked.tracked and tracked.kind == "dir" and tracked.files == 2
    assert tracked.hash == (history.root / "data/raw.loom").read_text().split("hash: ")[1][:64]
    write("data/raw/a.csv", "changed")
    changed = loom.data.info("data/raw")
    assert changed.hash != tracked.hash
    objects = set(history.odb.iter_oids())
    make_dataset("untracked", n=3)
    free = loom.data.info("untracked")
    assert not free.tracked and free.files == 3
    assert set(history.odb.iter_oids()) == objects  # info stores nothing


def test_info_of_tracked_path_not_checked_out_is_the_pointer(history):
    want = loom.data.info("data/raw")
    shutil.rmtree("data/raw")
    assert loom.data.info("data/raw") == want


def test_info_outside_any_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = write(tmp_path / "x.bin", b"hello")
    v = loom.data.info(f)
    assert v.kind == "file" and v.size == 5 and not v.tracked


def test_info_at_a_revision_is_the_version_tracked_then(history):
    """The data version lineage starts from: a pointer's hash at a rev, or the entry of a
    path inside a tracked folder, or a sub-folder's tree built by the rules of add."""
    from loom.data.scan import scan
    from loom.data.state import StateIndex
    from loom.data.workspace import Workspace

    old = loom.data.info("data/raw", rev="HEAD~1")
    now = loom.data.info("data/raw")
    assert old.tracked and old.kind == "dir" and old.files == 2
    assert old.hash != now.hash == loom.data.info("data/raw", rev="HEAD").hash
    assert loom.data.info("model.bin", rev="HEAD~1").hash == hash_bytes(b"m1")
    inner = loom.data.info("data/raw/a.csv", rev="HEAD~1")
    assert (inner.kind, inner.size) == ("file", len("id,label\n1,cat\n"))
    sub = loom.data.info("data/raw/sub", rev="HEAD~1")
    state = StateIndex(Workspace.find().loom_dir / "state.db")
    try:
        assert sub.hash == scan(Workspace.find().root / "data/raw/sub", state).oid
    finally:
        state.close()
    assert (sub.kind, sub.files) == ("dir", 1)
    with pytest.raises(NotFoundError, match="not in the tracked folder"):
        loom.data.info("data/raw/nope.csv", rev="HEAD~1")
    with pytest.raises(NotFoundError, match="not a git revision"):
        loom.data.info("data/raw", rev="no-such-rev")
    with pytest.raises(NotFoundError, match="not tracked at HEAD~1"):
        loom.data.info("elsewhere.txt", rev="HEAD~1")
