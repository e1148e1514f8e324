"""The data commands through the real CLI entry point: help, remotes, JSON, quiet."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loom.cli.main import run

COMMANDS = [
    ["init"],
    ["add"],
    ["status"],
    ["checkout"],
    ["fetch"],
    ["push"],
    ["pull"],
    ["gc"],
    ["fsck"],
    ["remote"],
    ["remote", "add"],
    ["remote", "list"],
    ["remote", "remove"],
    ["remote", "default"],
]


@pytest.fixture
def cli(capsys):
    def call(*args: str):
        capsys.readouterr()
        code = run([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


@pytest.fixture
def workspace(git_repo, cli):
    assert cli("init")[0] == 0
    return git_repo


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_help_on_everything(cli, cmd):
    code, out, _ = cli(*cmd, "--help")
    assert code == 0 and "Usage" in out


def test_remote_add_list_default_remove(workspace, cli, tmp_path):
    assert cli("remote", "add", "first", str(tmp_path / "a"))[0] == 0  # first becomes default
    assert cli("remote", "add", "second", "s3://bucket/x", "--endpoint-url", "http://h:1")[0] == 0
    code, out, _ = cli("remote", "list", "--json")
    remotes = {r["name"]: r for r in json.loads(out)}
    assert remotes["first"]["default"] and not remotes["second"]["default"]
    assert remotes["second"]["endpoint_url"] == "http://h:1"
    assert cli("remote", "default", "second")[0] == 0
    assert "* second" in cli("remote", "list")[1]
    code, _, err = cli("remote", "add", "second", "s3://other/y")
    assert code == 1 and "--force" in err
    assert cli("remote", "add", "--force", "second", "s3://other/y")[0] == 0
    assert cli("remote", "remove", "second")[0] == 0
    code, out, _ = cli("remote", "list", "--json")
    assert [r["name"] for r in json.loads(out)] == ["first"]
    code, _, err = cli("remote", "remove", "second")
    assert code == 1 and "no remote named" in err
    code, _, err = cli("remote", "add", "bad name", "s3://b/x")
    assert code == 1 and "not valid" in err
    # the config is committed: it must be plain TOML a person can read
    assert 'url = "s3://other/y"' not in (workspace / ".loom/config.toml").read_text()


def test_missing_cloud_extra_gives_install_hint(workspace, cli):
    pytest.importorskip("s3fs")
    try:
        import gcsfs  # noqa: F401

        pytest.skip("gcsfs is installed here")
    except ImportError:
        pass
    assert cli("remote", "add", "-d", "g", "gs://bucket/loom")[0] == 0
    Path("f.txt").write_text("x")
    assert cli("add", "f.txt")[0] == 0
    code, _, err = cli("push")
    assert code == 1 and "pip install 'loom[gs]'" in err


def test_quiet_and_json_outputs(workspace, cli):
    Path("d").mkdir()
    Path("d/a.txt").write_text("a")
    code, out, err = cli("add", "-q", "d")
    assert code == 0 and out == "" and err == ""
    code, out, _ = cli("status", "--json")
    assert json.loads(out) == [
        {
            "path": "d",
            "kind": "dir",
            "state": "clean",
            "in_cache": True,
            "added": [],
            "modified": [],
            "deleted": [],
        }
    ]
    Path("d/a.txt").write_text("changed")
    code, out, _ = cli("status")
    assert code == 0 and "modified" in out and "d/a.txt" in out
    code, out, _ = cli("fsck", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_error_output_has_no_traceback_unless_debug(workspace):
    env = {"PATH": str(Path(sys.executable).parent)}
    r = subprocess.run(
        [sys.executable, "-m", "loom", "push"],
        capture_output=True,
        text=True,
        cwd=workspace,
        env=env,
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr and "Hint:" in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "loom", "push"],
        capture_output=True,
        text=True,
        cwd=workspace,
        env={**env, "LOOM_DEBUG": "1"},
    )
    assert r.returncode == 1 and "Traceback" in r.stderr
