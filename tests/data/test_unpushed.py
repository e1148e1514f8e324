"""``loom status`` says when the cache holds versions the default remote lacks."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from loom.data import sync
from loom.data.add import add
from loom.data.gc import gc
from loom.data.ledger import NOT_ON_REMOTE, Ledger
from loom.data.remotes import add_remote
from loom.data.status import status
from loom.errors import LoomWarning

from .conftest import commit, git, make_dataset, write

FAST = Path(sys.executable).parent / "loom"  # the console script: status takes its fast path


def _status(ws, *args: str) -> subprocess.CompletedProcess[str]:
    exe = [str(FAST)] if FAST.exists() else [sys.executable, "-m", "loom"]
    return subprocess.run(
        [*exe, "status", *args], cwd=ws.root, capture_output=True, text=True, timeout=60
    )


def test_status_warns_until_each_version_is_pushed(ws, tmp_path):
    make_dataset("data/raw", n=3)
    [v1] = add(ws, ["data/raw"])
    commit("v1")
    r = _status(ws)
    assert r.returncode == 0 and "not on remote" not in r.stderr  # no remote at all: quiet
    add_remote(ws, "storage", str(tmp_path / "remote"), default=True)

    r = _status(ws)
    assert r.returncode == 0
    assert f"1 version(s) in the cache are not on remote 'storage': data/raw@{v1.hash[:8]}" in (
        r.stderr
    )
    assert "loom push --all-commits" in r.stderr
    sync.push(ws)
    assert "not on remote" not in _status(ws).stderr

    write("data/raw/part-000.csv", "v2\n")
    [v2] = add(ws, ["data/raw"])
    commit("v2")
    r = _status(ws, "--json")
    assert json.loads(r.stdout)[0]["state"] == "clean"  # stdout stays clean JSON
    assert f"data/raw@{v2.hash[:8]}" in r.stderr and v1.hash[:8] not in r.stderr
    with pytest.warns(LoomWarning, match="1 version"):
        status(ws)  # the library says it too
    sync.push(ws)
    assert "not on remote" not in _status(ws).stderr


def test_a_version_gone_from_the_cache_no_longer_counts(ws, tmp_path):
    add_remote(ws, "storage", str(tmp_path / "remote"), default=True)
    write("model.bin", "v1")
    add(ws, ["model.bin"])
    commit("v1")
    sync.push(ws)
    write("model.bin", "scratch")
    [scratch] = add(ws, ["model.bin"])  # never committed, never pushed
    assert scratch.hash[:8] in _status(ws).stderr
    git("checkout", "--", "model.bin.loom")
    assert loom_ok(ws, "checkout", "-f")
    gc(ws, grace_seconds=0)  # the scratch version leaves the cache
    assert "not on remote" not in _status(ws).stderr
    with Ledger.open(ws) as ledger:
        assert scratch.hash not in ledger.version_hashes()  # and the ledger forgets it


def loom_ok(ws, *args: str) -> bool:
    r = subprocess.run([sys.executable, "-m", "loom", *args], cwd=ws.root, capture_output=True)
    return r.returncode == 0


def test_versions_that_came_from_the_remote_are_on_it(ws, tmp_path):
    """A teammate pushed the same version: once it came from there, status knows."""
    backup, storage = tmp_path / "backup", tmp_path / "storage"
    add_remote(ws, "storage", str(storage), default=True)
    add_remote(ws, "backup", str(backup))
    make_dataset("data", n=3)
    [v1] = add(ws, ["data"])
    commit("v1")
    sync.push(ws, remote="backup")
    assert v1.hash[:8] in _status(ws).stderr  # on backup, not on the default
    shutil.copytree(backup, storage)  # the same objects reach storage another way
    shutil.rmtree(ws.odb.root)
    shutil.rmtree("data")
    sync.pull(ws)
    assert (Path("data") / "part-000.csv").exists()
    assert "not on remote" not in _status(ws).stderr


def test_status_paths_limit_the_warning_and_an_old_commit_uses_the_remembered_remote(ws, tmp_path):
    write("a.txt", "a")
    write("b.txt", "b")
    [a, b] = add(ws, ["a.txt", "b.txt"])
    commit("v1 without a remote")
    add_remote(ws, "storage", str(tmp_path / "remote"), default=True)
    commit("remote")
    r = _status(ws, "a.txt")
    assert a.hash[:8] in r.stderr and b.hash[:8] not in r.stderr
    git("checkout", "-q", "HEAD~1")  # this config names no remote; the workspace knew one
    r = _status(ws)
    assert "2 version(s)" in r.stderr and "'storage'" in r.stderr


def test_the_unpushed_query_uses_the_indexes(ws, tmp_path):
    """Cost on status's hot path: one query that looks rows up by key, never a scan of
    what the remotes hold (that table grows with every push)."""
    with Ledger.open(ws) as ledger:
        ledger.add_versions([("data", "a" * 64)])
        plan = ledger.db.execute("explain query plan " + NOT_ON_REMOTE, ("x",)).fetchall()
    steps = [row[-1] for row in plan]
    assert "SEARCH r USING PRIMARY KEY (remote=? AND hash=?)" in steps, steps
    assert not [s for s in steps if s.startswith("SCAN r")], steps
    db = sqlite3.connect(ws.loom_dir / "state.db")
    tables = {n for (n,) in db.execute("select name from sqlite_master where type='table'")}
    db.close()
    assert {"versions", "remote_has", "remotes_seen"} <= tables
