"""A remote that lacks some objects: fetch and pull bring and place everything else,
then one error lists what is missing and the workspace paths it was for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loom.data.add import add
from loom.data.remotes import add_remote
from loom.data.sync import push
from loom.data.workspace import Workspace

from .conftest import commit, git, loom_run, make_dataset, write

BIG = 100_000  # over the pack threshold: travels loose, so one object can be removed


@pytest.fixture
def clone(ws, tmp_path) -> tuple[Workspace, dict[str, str]]:
    """A clone whose remote lacks the object of data/raw/big.bin and all of `other`."""
    make_dataset("data/raw", n=12)
    write("data/raw/big.bin", b"b" * BIG)
    write("model.bin", b"m" * BIG)
    make_dataset("other", n=3, seed=7)
    [raw, model, other] = add(ws, ["data/raw", "model.bin", "other"])
    remote = tmp_path / "remote"
    add_remote(ws, "storage", str(remote), default=True)
    commit("v1")
    push(ws, ["data/raw", "model.bin"])  # `other` is never pushed: its listing is missing too
    big = ws.odb.read(raw.hash)  # the tree: find big.bin's object and remove it remotely
    [big_oid] = [e["hash"] for e in json.loads(big) if e["path"] == "big.bin"]
    gone = remote / "blake3" / big_oid[:2] / big_oid[2:]
    gone.chmod(0o644)
    gone.unlink()
    path = tmp_path / "clone"
    git("clone", "-q", str(ws.root), str(path))
    return Workspace(path), {"big": big_oid, "other": other.hash, "model": model.hash}


def _assert_reported(r, oids: dict[str, str]) -> None:
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "Hint:" in r.stderr
    assert "data/raw/big.bin" in r.stderr and oids["big"] in r.stderr
    assert "other" in r.stderr and oids["other"] in r.stderr  # its listing
    assert "2 path(s)" in r.stderr


def test_pull_places_everything_present_then_lists_what_is_missing(clone):
    ws, oids = clone
    r = loom_run("pull", cwd=ws.root)
    _assert_reported(r, oids)
    assert (ws.root / "model.bin").read_bytes() == b"m" * BIG
    placed = sorted(p.name for p in (ws.root / "data/raw").iterdir())
    assert placed == [f"part-{i:03}.csv" for i in range(12)]  # all but big.bin
    assert not (ws.root / "other").exists()


def test_fetch_brings_everything_present_then_lists_what_is_missing(clone):
    ws, oids = clone
    r = loom_run("fetch", "--json", cwd=ws.root)
    _assert_reported(r, oids)
    done = json.loads(r.stdout)  # --json still says what was fetched
    assert done["transferred"] == 14  # the tree, 12 small files and model.bin
    assert {f["oid"] for f in done["failed"]} == {oids["big"], oids["other"]}
    assert ws.odb.exists(oids["model"])
    # what arrived checks out without the remote
    assert loom_run("checkout", "model.bin", cwd=ws.root).returncode == 0
    assert (ws.root / "model.bin").read_bytes() == b"m" * BIG


def test_pull_of_complete_paths_succeeds(clone):
    ws, _ = clone
    r = loom_run("pull", "model.bin", "data/raw/part-003.csv", cwd=ws.root)
    assert r.returncode == 0, r.stderr
    assert Path(ws.root / "data/raw/part-003.csv").exists()
    assert not Path(ws.root / "data/raw/part-004.csv").exists()
