"""Links inside a tracked folder that can't be followed (dangling, a loop, to a folder):
checkout restores everything else and then reports them; status lists them; add refuses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from loom.data.add import add

from .conftest import loom_run, make_dataset, write


def _ok(r) -> None:
    assert "Traceback" not in r.stderr, r.stderr


@pytest.fixture
def tracked(ws, tmp_path):
    make_dataset("data", n=4)
    target = write(tmp_path / "outside.csv", "linked\n")
    os.symlink(target, "data/link.csv")  # a link to a file is stored as the file
    write("model.bin", b"m")
    add(ws, ["data", "model.bin"])
    target.unlink()  # now it points to nothing
    return ws


@pytest.mark.parametrize("kind", ["dangling", "loop", "folder"])
def test_checkout_restores_the_rest_then_reports_the_link(tracked, kind):
    says = _break(kind)
    os.remove("data/part-001.csv")
    os.remove("model.bin")
    r = loom_run("checkout", cwd=tracked.root)
    _ok(r)
    assert r.returncode == 1 and says in r.stderr and "Hint:" in r.stderr
    assert Path("data/part-001.csv").exists() and Path("model.bin").read_bytes() == b"m"
    assert os.path.islink("data/link.csv") or os.path.islink("data/odd")  # left as it was
    r = loom_run("checkout", "--force", "data", cwd=tracked.root)  # replaces the link
    assert r.returncode == 0, r.stderr
    assert not os.path.islink("data/link.csv") and Path("data/link.csv").read_text() == "linked\n"
    assert not os.path.lexists("data/odd")


@pytest.mark.parametrize("kind", ["dangling", "loop", "folder"])
def test_status_lists_the_broken_link(tracked, kind):
    says = _break(kind)
    r = loom_run("status", "--json", cwd=tracked.root)
    _ok(r)
    assert r.returncode == 1
    rows = {row["path"]: row for row in json.loads(r.stdout)}
    assert rows["data"]["state"] == "broken" and rows["model.bin"]["state"] == "clean"
    assert says in " ".join(rows["data"]["broken"].values())
    r = loom_run("status", cwd=tracked.root)
    assert r.returncode == 1 and "broken: data/" in r.stdout and says in r.stdout


@pytest.mark.parametrize("kind", ["dangling", "loop", "folder"])
def test_add_refuses_the_folder_with_a_clear_error(tracked, kind):
    says = _break(kind)
    r = loom_run("add", "data", cwd=tracked.root)
    _ok(r)
    assert r.returncode == 1 and says in r.stderr and "Hint:" in r.stderr


def test_a_tracked_file_that_became_a_loop(tracked):
    os.remove("model.bin")
    os.symlink("model.bin", "model.bin")
    r = loom_run("status", cwd=tracked.root)
    _ok(r)
    assert r.returncode == 1 and "model.bin is a symlink loop" in r.stdout
    r = loom_run("checkout", cwd=tracked.root)
    _ok(r)
    assert r.returncode == 1 and "symlink loop" in r.stderr and "--force" in r.stderr
    assert loom_run("checkout", "-f", "model.bin", cwd=tracked.root).returncode == 0
    assert Path("model.bin").read_bytes() == b"m"


def _break(kind: str) -> str:
    """Leave one kind of unfollowable link in data/; returns how Loom describes it."""
    if kind == "dangling":
        return "symlink to nothing"  # data/link.csv already is one
    os.remove("data/link.csv")
    if kind == "loop":
        os.symlink("link.csv", "data/link.csv")
        return "symlink loop"
    write("data/link.csv", "linked\n")  # as tracked
    os.makedirs("elsewhere", exist_ok=True)
    os.symlink(os.path.abspath("elsewhere"), "data/odd")
    return "symlink to a folder"
