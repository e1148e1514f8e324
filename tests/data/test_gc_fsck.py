from __future__ import annotations

import json
import os
import shutil
import time

from loom.data.add import add
from loom.data.api import read
from loom.data.checkout import checkout
from loom.data.gc import gc

from .conftest import commit, corrupt_object, git, make_dataset, write


def _age_cache(ws, seconds: float = 7200) -> None:
    """Backdate every cache file so the grace period doesn't protect it."""
    past = time.time() - seconds
    for p in ws.odb.root.rglob("*"):
        if p.is_file():
            os.utime(p, (past, past))


def test_gc_workspace_vs_all_commits(ws, cli):
    make_dataset("data", n=5)
    [v1] = add(ws, ["data"])
    commit("v1")
    git("tag", "v1")
    write("data/part-000.csv", "v2\n")
    [v2] = add(ws, ["data"])
    commit("v2")
    git("checkout", "-q", "-b", "side")
    write("data/part-001.csv", "side branch\n")
    [side] = add(ws, ["data"])
    commit("side")
    git("checkout", "-q", "main")
    checkout(ws)
    write("data/part-002.csv", "never committed\n")
    [draft] = add(ws, ["data"])  # uncommitted: only the workspace pointer knows it
    _age_cache(ws)

    r = gc(ws, all_commits=True)
    assert r.removed == []  # every version is referenced by a branch, a tag or the workspace
    for ptr in (v1, v2, side, draft):
        assert ws.odb.exists(ptr.hash)

    dry = cli("gc", "--workspace", "--dry-run", "--json")
    assert dry.code == 0 and json.loads(dry.out)["removed"] == 6  # 3 old trees + 3 old files
    assert ws.odb.exists(v1.hash)
    r = gc(ws)
    assert len(r.removed) == 6 and not ws.odb.exists(v1.hash) and ws.odb.exists(draft.hash)
    assert cli("fsck").code == 0
    assert cli("status").code == 0


def test_gc_grace_period_keeps_young_objects(ws):
    write("a.bin", b"one")
    [old] = add(ws, ["a.bin"])
    write("a.bin", b"two")
    add(ws, ["a.bin"])
    assert gc(ws).removed == []  # default grace: one hour
    assert gc(ws, grace_seconds=0).removed == [old.hash]


def test_gc_needs_a_choice(ws, cli):
    r = cli("gc")
    assert r.code == 1 and "--workspace" in r.err


def test_fsck_reports_corrupt_objects_with_paths(ws, cli):
    make_dataset("data", n=4)
    write("model.bin", bytes(range(256)) * 8192)  # 2 MiB: a loose object
    [d, m] = add(ws, ["data", "model.bin"])
    assert cli("fsck").code == 0
    from loom.objects.tree import Tree

    inner = Tree.from_bytes(ws.odb.read(d.hash)).entries[1]
    pack = corrupt_object(ws.odb, inner.hash)
    loose = corrupt_object(ws.odb, m.hash)
    r = cli("fsck", "--json")
    assert r.code == 1
    report = json.loads(r.out)
    assert not report["ok"]
    by_oid = {p["oid"]: p for p in report["problems"]}
    assert by_oid[m.hash]["used_by"] == ["model.bin"]
    assert by_oid[m.hash]["object"] == str(loose)
    assert f"data/{inner.path}" in by_oid[inner.hash]["used_by"]
    assert str(pack) in by_oid[inner.hash]["object"]
    human = cli("fsck")
    assert human.code == 1 and "model.bin" in human.err


def test_gc_keeps_run_artifacts_stored_in_the_workspace_cache(ws, cli):
    import subprocess
    import sys

    from loom.objects.hashing import hash_bytes

    write("cfg.yaml", "lr: 0.1\n")
    script = (
        "import loom\n"
        "loom.set_experiment('e')\n"
        "with loom.start_run():\n"
        "    loom.log_artifact('cfg.yaml')\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ws.root, check=True, timeout=120)
    oid = hash_bytes(b"lr: 0.1\n")
    assert ws.odb.exists(oid)
    write("unused.bin", b"garbage")
    [garbage] = add(ws, ["unused.bin"])
    os.remove("unused.bin.loom")
    _age_cache(ws)
    r = cli("gc", "--workspace")
    assert r.code == 0, r.err
    assert ws.odb.exists(oid) and not ws.odb.exists(garbage.hash)


def test_all_commits_sees_every_branch_tag_and_merge_resolution(ws):
    from loom.data.gc import commit_pointers

    versions = []
    for text, branch in [("a", None), ("b", None), ("c", "side"), ("d", "main")]:
        if branch:
            git("checkout", "-q", *(["-b"] if branch == "side" else []), branch)
        write("f.txt", text)
        versions.append(add(ws, ["f.txt"])[0].hash)
        commit(text)
    git("tag", "t1", "HEAD~1")
    import subprocess

    merged = subprocess.run(["git", "merge", "-q", "side", "-m", "merge"], capture_output=True)
    assert merged.returncode != 0  # the pointer conflicts: resolve it as a user would
    write("f.txt", "resolved")
    versions.append(add(ws, ["f.txt"])[0].hash)
    commit("merge")
    found = {p.hash for p in commit_pointers(ws)}
    assert found == set(versions)


def test_all_commits_fetches_old_listings_so_their_cached_files_are_kept(ws, tmp_path, cli):
    make_dataset("data", n=5)
    [v1] = add(ws, ["data"])
    assert cli("remote", "add", "-d", "storage", str(tmp_path / "remote")).code == 0
    commit("v1")
    assert cli("push").code == 0
    write("data/part-000.csv", "only in v2\n")
    add(ws, ["data"])
    commit("v2")
    assert cli("push").code == 0
    shutil.rmtree(ws.odb.root)  # as in a fresh clone: v2 pulled, one v1 file read
    assert cli("pull").code == 0
    old = read("data/part-000.csv", rev="HEAD~1")
    old_oid = next(o for o in ws.odb.iter_oids() if ws.odb.read(o) == old)
    ws.odb.remove(v1.hash)  # a cache holding an old file but not its folder's listing
    _age_cache(ws)

    r = gc(ws, all_commits=True, grace_seconds=0)
    assert r.unknown_trees == [] and ws.odb.exists(v1.hash)  # fetched from the remote
    assert ws.odb.exists(old_oid) and old_oid not in r.removed
