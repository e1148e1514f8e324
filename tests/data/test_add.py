from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

import pytest
import yaml

from loom.data import pointer as ptrs
from loom.data.add import add
from loom.data.status import status
from loom.objects.hashing import hash_file
from loom.objects.tree import Tree

from .conftest import make_dataset, write


def test_add_folder_writes_pointer_gitignore_and_objects(ws, cli):
    make_dataset("data/raw", n=5)
    r = cli("add", "data/raw")
    assert r.code == 0, r.err
    doc = yaml.safe_load(Path("data/raw.loom").read_text())
    assert doc["path"] == "raw" and doc["kind"] == "dir" and doc["files"] == 5
    assert doc["size"] == sum(p.stat().st_size for p in Path("data/raw").iterdir())
    assert Path("data/.gitignore").read_text().splitlines() == ["/raw"]
    tree = Tree.from_bytes(ws.odb.read(doc["hash"]))
    assert [e.path for e in tree.entries] == [f"part-{i:03}.csv" for i in range(5)]
    for e in tree.entries:
        assert ws.odb.read(e.hash) == Path("data/raw", e.path).read_bytes()
    assert "git add data/raw.loom data/.gitignore" in r.out


def test_add_single_file_and_readd_records_new_version(ws):
    write("model.bin", b"v1")
    [p1] = add(ws, ["model.bin"])
    assert p1.kind == "file" and p1.hash == hash_file("model.bin") and p1.size == 2
    write("model.bin", b"version two")
    [p2] = add(ws, ["model.bin"])
    assert p2.hash != p1.hash and ptrs.load(ws.root, "model.bin.loom") == p2
    assert ws.odb.read(p1.hash) == b"v1" and ws.odb.read(p2.hash) == b"version two"
    assert Path(".gitignore").read_text().splitlines() == ["/model.bin"]  # not duplicated


def test_unchanged_files_are_not_stored_again(ws):
    make_dataset("data", n=30)
    add(ws, ["data"])
    before = set(ws.odb.iter_oids())
    write("data/part-000.csv", "changed\n")
    add(ws, ["data"])
    new = set(ws.odb.iter_oids()) - before
    assert len(new) == 2  # the changed file and the new tree, nothing else


def test_state_index_trusts_unchanged_stat(ws):
    """A file whose (inode, mtime_ns, size) is known is not read again: like git's index."""
    f = write("data/a.txt", "aaaa")
    old = os.stat(f)
    os.utime(f, ns=(old.st_atime_ns, old.st_mtime_ns - 10**9))
    [ptr] = add(ws, ["data"])
    st = os.stat(f)
    # Same size, same inode, restored mtime: a stat-only index can't see this edit.
    with open(f, "r+b") as fh:
        fh.write(b"bbbb")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert [s.state for s in status(ws)] == ["clean"]
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # any stat change: hashed again
    assert [s.state for s in status(ws)] == ["modified"]
    assert ptr.hash


def test_exec_bits_odd_names_symlinks_and_empty_dirs(ws):
    root = Path("data")
    write(root / "run.sh", "#!/bin/sh\necho hi\n").chmod(0o755)
    write(root / "with space é ü.txt", "unicode")
    write(root / "new\nline.txt", "newline in a name")
    write(root / "sub" / "deep" / "x.bin", b"\x00\x01")
    (root / "empty" / "nested").mkdir(parents=True)
    os.symlink("with space é ü.txt", root / "link.txt")
    [ptr] = add(ws, [root])
    entries = Tree.from_bytes(ws.odb.read(ptr.hash)).as_dict()
    assert entries["run.sh"].exec and not entries["sub/deep/x.bin"].exec
    assert entries["new\nline.txt"].size == len("newline in a name")
    # a symlink to a file is stored as the file it points to; empty folders are not recorded
    assert entries["link.txt"].hash == entries["with space é ü.txt"].hash
    assert not any(p.startswith("empty") for p in entries)
    shutil.rmtree(root)
    from loom.data.checkout import checkout

    checkout(ws)
    assert (root / "link.txt").is_file() and not (root / "link.txt").is_symlink()
    assert (root / "run.sh").stat().st_mode & stat.S_IXUSR
    assert not (root / "sub/deep/x.bin").stat().st_mode & stat.S_IXUSR
    assert (root / "new\nline.txt").read_text() == "newline in a name"


def test_real_package_tree_round_trips(ws):
    """A data tree no one here made: an installed package from site-packages."""
    import rich

    src = Path(rich.__file__).parent
    shutil.copytree(src, "data/pkg", ignore=shutil.ignore_patterns("__pycache__"))
    before = {
        p.relative_to("data/pkg"): p.read_bytes()
        for p in Path("data/pkg").rglob("*")
        if p.is_file()
    }
    [ptr] = add(ws, ["data/pkg"])
    assert ptr.files == len(before) > 50
    shutil.rmtree("data/pkg")
    from loom.data.checkout import checkout

    checkout(ws)
    after = {
        p.relative_to("data/pkg"): p.read_bytes()
        for p in Path("data/pkg").rglob("*")
        if p.is_file()
    }
    assert after == before
    assert [s.state for s in status(ws)] == ["clean"]


@pytest.mark.skipif(sys.platform != "linux", reason="needs a filesystem that takes any bytes")
def test_non_utf8_name_is_refused_before_anything_is_written(ws, cli):
    Path("data").mkdir()
    with open(b"data/bad\xff.txt", "wb") as f:
        f.write(b"x")
    r = cli("add", "data")
    assert r.code == 1 and "UTF-8" in r.err and "Hint" in r.err
    assert not Path("data.loom").exists() and not Path(".gitignore").exists()
