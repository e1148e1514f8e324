"""Remotes from three places (environment > config.local.toml > config.toml), validated when
read, and remembered so that an old commit whose config lacks its remote still finds it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loom.data.add import add
from loom.data.remotes import add_remote, resolve
from loom.errors import LoomWarning, NoRemoteError

from .conftest import commit, git, loom_run, make_dataset, snapshot, write


def test_env_beats_local_beats_committed_and_list_says_where_each_comes_from(
    ws, cli, monkeypatch, tmp_path
):
    assert cli("remote", "add", "-d", "storage", "s3://team/loom").code == 0
    commit("remote")
    mine = str(tmp_path / "mine")
    assert cli("remote", "add", "--local", "storage", mine).code == 0
    assert cli("remote", "add", "--local", "scratch", "../scratch").code == 0
    monkeypatch.setenv("LOOM_REMOTE_CI_URL", "s3://ci/loom")
    monkeypatch.setenv("LOOM_REMOTE_CI_ENDPOINT_URL", "http://127.0.0.1:9")

    r = cli("remote", "list", "--json")
    by_name = {x["name"]: x for x in json.loads(r.out)}
    assert by_name["storage"]["url"] == mine and by_name["storage"]["source"] == "local"
    assert by_name["storage"]["default"] and by_name["storage"]["where"].endswith(
        "config.local.toml"
    )
    assert by_name["scratch"]["source"] == "local" and not by_name["scratch"]["default"]
    assert by_name["ci"] == {
        "name": "ci",
        "url": "s3://ci/loom",
        "endpoint_url": "http://127.0.0.1:9",
        "default": False,
        "source": "env",
        "where": "LOOM_REMOTE_CI_URL",
    }
    human = cli("remote", "list").out
    assert "[config.local.toml]" in human and "[LOOM_REMOTE_CI_URL]" in human
    # --local never touches the committed file, and git never sees the local one
    assert git("status", "--porcelain") == ""
    assert "mine" not in Path(".loom/config.toml").read_text()

    monkeypatch.setenv("LOOM_REMOTE", "ci")  # picks the default
    assert resolve(ws).name == "ci"
    env_dir = tmp_path / "from-env"
    monkeypatch.setenv("LOOM_REMOTE_STORAGE_URL", str(env_dir))  # beats the local file
    got = resolve(ws, "storage")
    assert (got.url, got.source, got.endpoint_url) == (str(env_dir), "env", None)
    write("f.txt", "data")
    add(ws, ["f.txt"])
    assert cli("push", "-r", "storage").code == 0
    assert not Path(mine).exists() and any(env_dir.rglob("*"))  # it went where env says


def test_local_edits_and_removal_from_the_right_place(ws, cli, monkeypatch):
    assert cli("remote", "add", "team", "s3://team/loom").code == 0
    assert cli("remote", "add", "--local", "mine", "../mine").code == 0
    r = cli("remote", "remove", "mine")
    assert r.code == 1 and "config.local.toml" in r.err and "--local" in r.err
    assert cli("remote", "default", "--local", "mine").code == 0
    local = Path(".loom/config.local.toml").read_text()
    assert 'remote = "mine"' in local and 'remote = "team"' in Path(".loom/config.toml").read_text()
    assert resolve(ws).name == "mine"  # the local default wins
    r = cli("remote", "add", "--local", "mine", "../other")
    assert r.code == 1 and "loom remote add --local --force" in r.err
    assert cli("remote", "remove", "--local", "mine").code == 0
    assert resolve(ws).name == "team"
    monkeypatch.setenv("LOOM_REMOTE_CI_URL", "s3://ci/x")
    r = cli("remote", "remove", "ci")
    assert r.code == 1 and "LOOM_REMOTE_CI_URL" in r.err


def test_local_config_is_git_ignored_also_in_older_workspaces(ws, cli):
    ignore = Path(".loom/.gitignore")
    ignore.write_text("/cache/\n/state.db*\n/tmp/\n/loom.db*\n/lock")  # before config.local.toml
    commit("old workspace")
    assert cli("remote", "add", "--local", "-d", "mine", "../mine").code == 0
    assert "/config.local.toml" in ignore.read_text().splitlines()
    assert "/lock" in ignore.read_text().splitlines()  # the last line was kept whole
    assert git("status", "--porcelain", "--untracked-files=all") == " M .loom/.gitignore\n"
    assert cli("remote", "add", "--local", "other", "../other").code == 0
    assert ignore.read_text().count("/config.local.toml") == 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('[remote.s]\nendpoint_url = "http://h:1"\n', "remote.s.url"),
        ("[remote.s]\nurl = 5\n", "remote.s.url"),
        ('[remote.s]\nurl = ""\n', "remote.s.url"),
        ('[remote.s]\nurl = "s3://b/x"\nendpoint_url = 9\n', "remote.s.endpoint_url"),
        ('[remote.s]\nurl = "s3://b/x"\nregion = "eu"\n', "remote.s.region"),
        ('remote = "s3://b/x"\n', "remote"),
        ('[remote]\ns = "s3://b/x"\n', "remote.s"),
    ],
)
@pytest.mark.parametrize("local", [False, True])
def test_bad_remote_tables_are_errors_naming_the_file_and_key(ws, cli, body, says, local):
    name = "config.local.toml" if local else "config.toml"
    Path(".loom", name).write_text(body)
    for args in (["remote", "list"], ["push"], ["status"]):
        r = cli(*args)
        assert r.code == 1, (args, r.out)
        assert name in r.err and says in r.err and "Hint:" in r.err, r.err
        assert "Traceback" not in r.err


def test_env_endpoint_without_url_and_bad_env_name(ws, cli, monkeypatch):
    monkeypatch.setenv("LOOM_REMOTE_X_ENDPOINT_URL", "http://127.0.0.1:9")
    r = cli("remote", "list")
    assert r.code == 1 and "LOOM_REMOTE_X_ENDPOINT_URL" in r.err and "url" in r.err
    monkeypatch.delenv("LOOM_REMOTE_X_ENDPOINT_URL")
    monkeypatch.setenv("LOOM_REMOTE__X_URL", "/tmp/x")
    r = cli("remote", "list")
    assert r.code == 1 and "LOOM_REMOTE__X_URL" in r.err and "not a valid name" in r.err


def _v1_without_remote_then_v2_with_it(ws, remote: Path) -> dict[str, bytes]:
    """v1 committed before any remote existed; the remote is added and committed with v2."""
    make_dataset("data/raw", n=4)
    add(ws, ["data/raw"])
    commit("v1")
    v1 = snapshot(Path("data/raw"))
    assert loom_run("remote", "add", "-d", "storage", str(remote), cwd=ws.root).returncode == 0
    assert loom_run("push", cwd=ws.root).returncode == 0
    write("data/raw/part-000.csv", "v2\n")
    add(ws, ["data/raw"])
    commit("v2 and its remote")
    assert loom_run("push", cwd=ws.root).returncode == 0
    return v1


def test_old_commit_without_the_remote_pulls_from_the_remembered_one_and_says_so(ws, tmp_path):
    remote = tmp_path / "remote"
    v1 = _v1_without_remote_then_v2_with_it(ws, remote)
    git("checkout", "-q", "HEAD~1")
    assert "remote" not in Path(".loom/config.toml").read_text()  # v1's config has none
    shutil.rmtree(".loom/cache")
    shutil.rmtree("data/raw")
    r = loom_run("pull", cwd=ws.root)
    assert r.returncode == 0, r.stderr
    assert snapshot(Path("data/raw")) == v1
    assert "storage" in r.stderr and str(remote) in r.stderr  # names the remote and its URL
    assert "loom remote add --local" in r.stderr  # and how to make it last
    assert "Traceback" not in r.stderr


def test_remembered_remote_for_a_named_or_default_remote_the_config_lacks(ws, tmp_path):
    write("f.txt", "x")
    add(ws, ["f.txt"])
    commit("no remote yet")
    with pytest.raises(NoRemoteError):  # nothing remembered: the usual error
        resolve(ws)
    add_remote(ws, "storage", str(tmp_path / "a"), default=True)  # remembered on add
    add_remote(ws, "backup", str(tmp_path / "b"))
    commit("remotes")
    git("checkout", "-q", "HEAD~1")
    with pytest.warns(LoomWarning, match="no remote 'storage'"):
        assert resolve(ws).url == str(tmp_path / "a")  # the last default
    with pytest.warns(LoomWarning, match="no remote 'backup'"):
        assert resolve(ws, "backup").url == str(tmp_path / "b")  # a named one
    git("checkout", "-q", "-")
    # remotes configured but none is the default: the last default, said so
    values = ws.file_values()
    del values["core"]["remote"]
    ws.save_config(values)
    with pytest.warns(LoomWarning, match="No default remote is set; using storage"):
        assert resolve(ws).name == "storage"
    with pytest.raises(Exception, match="no remote named 'nope'"):
        resolve(ws, "nope")


def test_a_remote_from_the_environment_needs_no_config_at_all(ws, tmp_path):
    make_dataset("data", n=2)
    add(ws, ["data"])
    target = tmp_path / "env-remote"
    env = {**os.environ, "LOOM_REMOTE_CI_URL": str(target), "LOOM_REMOTE": "ci"}
    r = subprocess.run(
        [sys.executable, "-m", "loom", "push", "--json"],
        cwd=ws.root,
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["remote"] == str(target) and any(target.rglob("*"))
    assert "remote" not in Path(".loom/config.toml").read_text()
