from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from loom.data.add import add
from loom.data.checkout import checkout
from loom.data.status import status
from loom.errors import ConflictError, CorruptObjectError, MissingObjectError

from .conftest import commit, corrupt_object, git, make_dataset, write


@pytest.fixture
def two_versions(ws):
    make_dataset("data/raw", n=10)
    write("model.bin", b"model v1")
    add(ws, ["data/raw", "model.bin"])
    commit("v1")
    write("data/raw/part-000.csv", "edited\n")
    os.remove("data/raw/part-001.csv")
    write("data/raw/extra/new.csv", "new\n")
    write("model.bin", b"model v2")
    add(ws, ["data/raw", "model.bin"])
    commit("v2")
    return ws


def test_git_checkout_then_loom_checkout_restores_each_version(two_versions, cli):
    v2 = {p: Path(p).read_bytes() for p in ["data/raw/part-000.csv", "model.bin"]}
    untouched_inode = os.stat("data/raw/part-005.csv").st_ino
    git("checkout", "-q", "HEAD~1")
    r = cli("checkout")
    assert r.code == 0, r.err
    assert Path("data/raw/part-000.csv").read_text() == "id,value\n0,0\n"
    assert Path("data/raw/part-001.csv").exists()
    assert not Path("data/raw/extra").exists()  # removed, with its now-empty folder
    assert Path("model.bin").read_bytes() == b"model v1"
    # only differing files are rewritten
    assert os.stat("data/raw/part-005.csv").st_ino == untouched_inode
    assert [s.state for s in status(two_versions)] == ["clean", "clean"]
    git("checkout", "-q", "main")
    checkout(two_versions)
    assert {p: Path(p).read_bytes() for p in v2} == v2
    assert checkout(two_versions).unchanged == 2


def test_checkout_refuses_to_discard_uncached_changes(two_versions):
    write("data/raw/part-002.csv", "precious, never added\n")
    with pytest.raises(ConflictError) as err:
        checkout(two_versions)
    assert "data/raw/part-002.csv" in err.value.message and "--force" in err.value.hint
    assert Path("data/raw/part-002.csv").read_text() == "precious, never added\n"
    checkout(two_versions, force=True)
    assert Path("data/raw/part-002.csv").read_text() != "precious, never added\n"


def test_corrupt_object_is_reported_and_never_checked_out(two_versions, cli):
    ptr_hash = {e.path: e.hash for e in _tree(two_versions).entries}["part-003.csv"]
    corrupt_object(two_versions.odb, ptr_hash)
    os.remove("data/raw/part-003.csv")
    r = cli("checkout")
    assert r.code == 1
    assert "data/raw/part-003.csv" in r.err and "Hint:" in r.err
    assert not Path("data/raw/part-003.csv").exists()
    assert not list(Path("data/raw").glob(".*loomtmp"))


def test_missing_object_says_pull(two_versions):
    shutil.rmtree(two_versions.odb.root)
    shutil.rmtree("data/raw")
    with pytest.raises(MissingObjectError) as err:
        checkout(two_versions)
    assert "loom pull" in err.value.hint


@pytest.mark.parametrize("mode", ["hardlink", "symlink"])
def test_link_modes_keep_the_cache_read_only(two_versions, mode):
    two_versions.save_config({**two_versions.values, "cache": {"type": mode}})
    shutil.rmtree("data/raw")
    os.remove("model.bin")
    checkout(two_versions)
    f = Path("model.bin")
    if mode == "symlink":
        assert f.is_symlink()
    else:
        assert os.stat(f).st_nlink == 2
    assert f.read_bytes() == b"model v2"
    assert os.stat(f).st_mode & 0o222 == 0  # the cache is protected read-only
    assert [s.state for s in status(two_versions)] == ["clean", "clean"]


def _tree(ws):
    from loom.data import pointer as ptrs
    from loom.objects.tree import Tree

    return Tree.from_bytes(ws.odb.read(ptrs.load(ws.root, "data/raw.loom").hash))


@pytest.mark.parametrize("evil", ["../escape.txt", "/etc/evil", "a/../../x", "a//b", "./a"])
def test_crafted_tree_cannot_write_outside_the_folder(ws, evil):
    import json

    from loom.data import pointer as ptrs
    from loom.data.pointer import Pointer

    blob = ws.odb.add_bytes(b"owned")
    tree = json.dumps([{"path": evil, "hash": blob, "size": 5, "exec": False}]).encode()
    oid = ws.odb.add_bytes(tree)
    ptrs.save(ws.root, Pointer("data", oid, 5, "dir", 1))
    with pytest.raises(CorruptObjectError, match="unsafe path"):
        checkout(ws)
    assert not (ws.root.parent / "escape.txt").exists() and not Path("/etc/evil").exists()
