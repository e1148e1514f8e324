"""Bad input: one clear error with a hint, exit code 1, nothing half-written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import git, make_dataset, snapshot, write


@pytest.fixture
def tracked(ws, cli):
    make_dataset("data/raw", n=3)
    assert cli("add", "data/raw").code == 0
    return ws


def _fails(cli, root: Path, *args: str, says: str) -> str:
    before = snapshot(root)
    r = cli(*args)
    assert r.code == 1, (r.out, r.err)
    assert says in r.err, r.err
    assert "Hint:" in r.err and "Traceback" not in r.err
    after = snapshot(root)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    # only Loom's private files (state index, lock) may change on a refused command
    assert all(k.startswith(".loom/") for k in changed), changed
    return r.err


def test_path_outside_workspace(tracked, cli, tmp_path):
    outside = write(tmp_path / "elsewhere.csv", "x")
    _fails(cli, tracked.root, "add", str(outside), says="outside the workspace")


@pytest.mark.parametrize("target", [".git", ".git/config", ".loom", ".loom/config.toml"])
def test_adding_git_or_loom_is_refused(tracked, cli, target):
    _fails(cli, tracked.root, "add", target, says="manages itself")


def test_path_inside_tracked_folder(tracked, cli):
    err = _fails(cli, tracked.root, "add", "data/raw/part-000.csv", says="already tracked")
    assert "loom add data/raw" in err


def test_folder_containing_a_tracked_path(tracked, cli):
    _fails(cli, tracked.root, "add", "data", says="tracked on its own")


def test_missing_path_and_pointer_file(tracked, cli):
    _fails(cli, tracked.root, "add", "nope.csv", says="does not exist")
    _fails(cli, tracked.root, "add", "data/raw.loom", says="is a pointer file")
    _fails(cli, tracked.root, "checkout", "data/other", says="not tracked")


@pytest.mark.parametrize(
    "text, says",
    [
        ("path: raw\nhash: [unclosed\n", "not YAML"),
        ("just a string\n", "expected a mapping"),
        ("path: raw\nhash: abc\nsize: 1\nkind: dir\nfiles: 1\n", "'hash'"),
        ("path: ../../etc\nhash: " + "a" * 64 + "\nsize: 1\nkind: file\n", "'path'"),
        ("path: raw\nhash: " + "a" * 64 + "\nsize: -1\nkind: file\n", "'size'"),
        ("path: raw\nhash: " + "a" * 64 + "\nsize: 1\nkind: blob\n", "'kind'"),
    ],
)
def test_garbled_pointer(tracked, cli, text, says):
    Path("data/raw.loom").write_text(text)
    err = _fails(cli, tracked.root, "status", says=says)
    assert "data/raw.loom" in err
    _fails(cli, tracked.root, "checkout", says=says)


def test_no_remote_configured(tracked, cli):
    err = _fails(cli, tracked.root, "push", says="No remote is configured")
    assert "loom remote add -d storage s3://bucket/path" in err
    _fails(cli, tracked.root, "pull", says="No remote is configured")


def test_unknown_remote_scheme_and_name(tracked, cli):
    _fails(cli, tracked.root, "remote", "add", "x", "ftp://host/path", says="Unknown remote scheme")
    _fails(cli, tracked.root, "push", "-r", "nope", says="no remote named 'nope'")


def test_unreachable_remote(tracked, cli):
    assert (
        cli(
            "remote", "add", "-d", "s3", "s3://bucket/loom", "--endpoint-url", "http://127.0.0.1:9"
        ).code
        == 0
    )
    before = snapshot(tracked.root)
    r = cli("push")
    assert r.code == 1 and "Hint:" in r.err and "Traceback" not in r.err
    assert snapshot(tracked.root).keys() == before.keys()


def test_not_in_a_workspace(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in (["add", "x"], ["status"], ["push"], ["remote", "list"], ["fsck"]):
        r = cli(*args)
        assert r.code == 1 and "not inside a Loom workspace" in r.err and "loom init" in r.err


def test_init_outside_git_and_twice(cli, tmp_path, monkeypatch, git_repo):
    monkeypatch.chdir(tmp_path)
    r = cli("init")
    assert r.code == 1 and "git init" in r.err and not (tmp_path / ".loom").exists()
    monkeypatch.chdir(git_repo)
    assert cli("init").code == 0
    assert cli("init").code == 1
    ignored = (git_repo / ".loom/.gitignore").read_text().split()
    assert {"/cache/", "/tmp/", "/lock"} <= set(ignored)
    assert os.path.exists(git_repo / ".loom/config.toml")


def test_path_already_tracked_by_git(ws, cli):
    make_dataset("data", n=2)
    git("add", "data")
    git("commit", "-q", "-m", "data in git")
    err = _fails(cli, ws.root, "add", "data", says="tracked by git")
    assert "git rm -r --cached data" in err
    git("rm", "-r", "-q", "--cached", "data")
    assert cli("add", "data").code == 0
