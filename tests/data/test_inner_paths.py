"""A file or sub-folder inside a tracked folder, named to checkout, pull, fetch or status."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loom.data.add import add
from loom.data.remotes import add_remote
from loom.data.sync import push
from loom.data.workspace import Workspace

from .conftest import commit, git, loom_run, write


@pytest.fixture
def tracked(ws):
    write("data/a.csv", "a")
    write("data/sub/b.csv", "b")
    write("data/sub/deeper/c.csv", "c")
    write("data/subway.csv", "not under sub/")
    add(ws, ["data"])
    return ws


def test_checkout_of_a_file_inside_restores_just_it(tracked):
    Path("data/sub/b.csv").unlink()
    write("data/a.csv", "edited, not added")
    r = loom_run("checkout", "data/sub/b.csv", cwd=tracked.root)
    assert r.returncode == 0, r.stderr
    assert Path("data/sub/b.csv").read_text() == "b"
    assert Path("data/a.csv").read_text() == "edited, not added"  # not named: untouched


def test_checkout_of_a_sub_folder_restores_what_is_under_it(tracked):
    shutil.rmtree("data/sub")
    Path("data/subway.csv").unlink()
    r = loom_run("checkout", "data/sub/", cwd=tracked.root)
    assert r.returncode == 0, r.stderr
    assert Path("data/sub/b.csv").read_text() == "b"
    assert Path("data/sub/deeper/c.csv").read_text() == "c"
    assert not Path("data/subway.csv").exists()  # a sibling whose name starts alike


def test_status_of_a_path_inside_shows_the_folder_limited_to_it(tracked):
    Path("data/sub/b.csv").unlink()
    write("data/a.csv", "edited")
    r = loom_run("status", "data/sub", "--json", cwd=tracked.root)
    assert r.returncode == 0, r.stderr
    import json

    [row] = json.loads(r.stdout)
    assert (row["path"], row["state"], row["deleted"], row["modified"]) == (
        "data",
        "modified",
        ["sub/b.csv"],
        [],
    )
    r = loom_run("status", "data/sub/deeper/c.csv", cwd=tracked.root)
    assert r.returncode == 0 and r.stdout.startswith("clean")


def test_unknown_path_inside_is_a_clear_error(tracked):
    for verb in ("checkout", "status"):
        r = loom_run(verb, "data/nope.csv", cwd=tracked.root)
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert "data/nope.csv is not in the tracked folder data" in r.stderr, r.stderr
        assert "Hint:" in r.stderr
    r = loom_run("checkout", "data.loom/x", cwd=tracked.root)
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_pull_and_fetch_of_a_path_inside_bring_just_it(tracked, tmp_path):
    add_remote(tracked, "storage", str(tmp_path / "remote"), default=True)
    commit("v1")
    push(tracked)
    clone = tmp_path / "clone"
    git("clone", "-q", str(tracked.root), str(clone))
    r = loom_run("pull", "data/sub/b.csv", cwd=clone)
    assert r.returncode == 0, r.stderr
    assert (clone / "data/sub/b.csv").read_text() == "b"
    assert not (clone / "data/a.csv").exists()
    r = loom_run("fetch", "data/sub/deeper", "--json", cwd=clone)
    assert r.returncode == 0, r.stderr
    assert '"transferred": 1' in r.stdout  # c.csv only (the listing is cached)
    odb = Workspace(clone).odb
    assert len(list(odb.iter_oids())) == 3  # the listing, b.csv, c.csv
