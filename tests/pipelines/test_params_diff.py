"""``loom params diff``: params of loom.yaml's stages at real git commits and in the workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loom.data.workspace import init
from tests.data.conftest import cli, commit, git, write, ws  # noqa: F401

PIPELINE = """\
stages:
  train:
    cmd: python train.py
    params:
    - train
    - config.json: [model.depth]
    - extra.toml:
    - settings.py: [Train.batch]
"""


def _diff(cli, *args: str) -> dict:  # noqa: F811
    r = cli("params", "diff", *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def _pipeline(root: Path) -> None:
    write(root / "loom.yaml", PIPELINE)
    write(root / "config.json", json.dumps({"model": {"depth": 3, "width": 8}}))
    write(root / "extra.toml", "[opt]\nlr = 0.5\nmomentum = 0.9\n")
    write(root / "settings.py", "SEED = 1\n\nclass Train:\n    batch = 32\n    name = 'x'\n")


def test_head_against_workspace_nested_sections_added_removed_and_type_changes(ws, cli):  # noqa: F811
    _pipeline(ws.root)
    write("params.yaml", "train:\n  lr: 0.01\n  epochs: 10\n  opt: {beta: 0.9, eps: 1.0e-8}\n")
    commit("one")
    write("params.yaml", 'train:\n  lr: 0.02\n  epochs: "10"\n  opt: {beta: 0.9, decay: true}\n')
    d = _diff(cli)
    assert d == {
        "params.yaml": {
            "train.lr": {"old": 0.01, "new": 0.02, "diff": 0.01, "status": "modified"},
            "train.epochs": {"old": 10, "new": "10", "status": "modified"},
            "train.opt.eps": {"old": 1e-8, "new": None, "status": "deleted"},
            "train.opt.decay": {"old": None, "new": True, "status": "added"},
        }
    }
    every = _diff(cli, "--all")["params.yaml"]
    assert every["train.opt.beta"] == {"old": 0.9, "new": 0.9, "diff": 0.0, "status": "unchanged"}


def test_two_commits_one_commit_and_head_against_the_workspace(ws, cli):  # noqa: F811
    write("params.yaml", "lr: 1\n")
    commit("one")
    write("params.yaml", "lr: 2\n")
    commit("two")
    write("params.yaml", "lr: 4\n")
    first = git("rev-parse", "HEAD~1").strip()
    assert _diff(cli, "HEAD~1", "HEAD")["params.yaml"]["lr"]["diff"] == 1
    assert _diff(cli, first)["params.yaml"]["lr"] == {
        "old": 1,
        "new": 4,
        "diff": 3,
        "status": "modified",
    }
    assert _diff(cli)["params.yaml"]["lr"]["old"] == 2
    assert _diff(cli, "HEAD", "HEAD") == {}


def test_declared_files_in_json_toml_python_and_deps_only(ws, cli):  # noqa: F811
    _pipeline(ws.root)
    write("params.yaml", "train: {lr: 0.1}\nunused: 1\n")
    commit("one")
    write("params.yaml", "train: {lr: 0.2}\nunused: 2\n")
    write("config.json", json.dumps({"model": {"depth": 4, "width": 16}}))
    write("extra.toml", "[opt]\nlr = 0.25\nmomentum = 0.9\n")
    write("settings.py", "SEED = 2\n\nclass Train:\n    batch = 64\n    name = 'y'\n")
    d = _diff(cli)
    assert set(d) == {"params.yaml", "config.json", "extra.toml", "settings.py"}
    assert d["config.json"] == {
        "model.depth": {"old": 3, "new": 4, "diff": 1, "status": "modified"}
    }
    assert d["extra.toml"]["opt.lr"]["diff"] == -0.25  # a file declared bare: all of it
    assert d["settings.py"] == {
        "Train.batch": {"old": 32, "new": 64, "diff": 32, "status": "modified"}
    }
    assert set(d["params.yaml"]) == {"train.lr", "unused"}  # params.yaml whole, as DVC
    deps = _diff(cli, "--deps")
    assert set(deps["params.yaml"]) == {"train.lr"}  # only what a stage declares


def test_a_key_declared_at_one_revision_only_compares_its_values(ws, cli):  # noqa: F811
    write("loom.yaml", "stages: {a: {cmd: x, params: [{p.json: [k1]}]}}\n")
    write("p.json", '{"k1": 1, "k2": 5}')
    commit("one")
    write("loom.yaml", "stages: {a: {cmd: x, params: [{p.json: [k1, k2]}]}}\n")
    assert _diff(cli) == {}  # k2 did not change: declaring it is no change of its value
    assert "k2" in _diff(cli, "--all")["p.json"]


def test_the_table_shows_revisions_deltas_missing_and_quoted_strings(ws, cli, monkeypatch):  # noqa: F811
    monkeypatch.setenv("COLUMNS", "200")
    write("params.yaml", "lr: 0.123456789\nepochs: 10\nold: x\ntiny: 1.0e-6\n")
    commit("one")
    write("params.yaml", "lr: 0.2\nepochs: '10'\nnew: [1, 2]\ntiny: 2.0e-6\n")
    r = cli("params", "diff")
    assert r.code == 0, r.err
    lines = {line.split("│")[2].strip(): line for line in r.out.splitlines() if "│" in line}
    assert "HEAD" in r.out and "workspace" in r.out
    assert "0.123456789" in lines["lr"] and "0.076543211" in lines["lr"]  # params: as written
    assert "1e-06" in lines["tiny"] and "2e-06" in lines["tiny"]
    assert '"10"' in lines["epochs"] and "changed" in lines["epochs"]
    assert "—" in lines["old"] and "deleted" in lines["old"]
    assert "[1, 2]" in lines["new"] and "added" in lines["new"]
    assert cli("params", "diff", "HEAD", "HEAD").out == ""  # nothing changed: nothing printed


def test_a_file_missing_at_a_revision_is_shown_as_missing(ws, cli):  # noqa: F811
    write("README", "x")
    commit("no params yet")
    write("params.yaml", "a: {b: 1}\n")
    assert _diff(cli) == {"params.yaml": {"a.b": {"old": None, "new": 1, "status": "added"}}}


def test_workspace_below_the_git_root_reads_its_own_files(git_repo, cli, monkeypatch):  # noqa: F811
    sub = git_repo / "project"
    write(sub / "params.yaml", "lr: 1\n")
    write(git_repo / "params.yaml", "lr: 100\n")  # the repo's, not the workspace's
    init(sub, no_scm=True)
    commit("one")
    write(sub / "params.yaml", "lr: 3\n")
    monkeypatch.chdir(sub)
    assert _diff(cli)["params.yaml"]["lr"] == {"old": 1, "new": 3, "diff": 2, "status": "modified"}


@pytest.mark.parametrize("rev", ["nope", "HEAD~5", "--", "-x"])
def test_an_unknown_revision_is_a_clear_error(ws, cli, rev):  # noqa: F811
    write("params.yaml", "lr: 1\n")
    commit("one")
    args = ["params", "diff", "--", rev] if rev.startswith("-") else ["params", "diff", rev]
    r = cli(*args)
    assert r.code == 1
    assert "is not a git revision" in r.err and "Hint:" in r.err and "git log" in r.err
    assert "Traceback" not in r.err and r.out == ""


def test_no_commits_yet_says_to_commit(ws, cli):  # noqa: F811
    write("params.yaml", "lr: 1\n")
    r = cli("params", "diff")
    assert r.code == 1 and "'HEAD' is not a git revision" in r.err
    assert "no commits yet" in r.err


def test_outside_a_workspace_says_where_to_init(tmp_path, cli, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    for args in (["params", "diff"], ["metrics", "show"], ["plots", "diff"]):
        r = cli(*args)
        assert r.code == 1 and "not inside a Loom workspace" in r.err and "loom init" in r.err


def test_outside_git_there_are_no_revisions(tmp_path, cli, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    init(tmp_path, no_scm=True)
    write("params.yaml", "lr: 1\n")
    r = cli("params", "diff")
    assert r.code == 1 and "not in a git repository" in r.err and "git init" in r.err


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("params.yaml", "a: [1, 2\n", "params.yaml:2: not valid YAML"),
        ("p.json", '{"a": 1,}', "p.json:1: not valid JSON"),
        ("p.toml", "a = = 1\n", "p.toml: not valid TOML: Invalid value (at line 1, column 5)"),
        ("p.py", "def (:\n", "p.py:1: not valid Python"),
        ("p.yaml", "- 1\n- 2\n", "p.yaml holds a list, not a mapping"),
        # params.yaml is read first by loom.yaml's templating, which says it so
        ("params.yaml", "- 1\n- 2\n", "params.yaml: params.yaml must hold a mapping"),
    ],
)
def test_a_file_that_does_not_parse_is_named_with_its_revision(ws, cli, name, text, says):  # noqa: F811
    write("loom.yaml", f"stages: {{a: {{cmd: x, params: [{{{name}: }}]}}}}\n")
    write(name, text)
    commit("broken")
    write(name, text + "\n")
    r = cli("params", "diff")
    assert r.code == 1, r.out
    assert f"Error: At HEAD, {says}" in r.err and "Hint:" in r.err
    assert "Traceback" not in r.err


def test_a_broken_loom_yaml_names_itself_and_the_revision(ws, cli):  # noqa: F811
    write("loom.yaml", "stages: {a: {cmd: x}}\n")
    commit("ok")
    write("loom.yaml", "stages:\n  a: [\n")
    r = cli("params", "diff")
    assert r.code == 1 and "In the workspace, loom.yaml:3: not valid YAML" in r.err
    write("loom.yaml", "stages: {a: {cmd: x, params: [{../outside.yaml: }]}}\n")
    r = cli("params", "diff")
    assert r.code == 1 and "In the workspace, loom.yaml:1:" in r.err
    assert "'../outside.yaml' is not inside the workspace" in r.err
    commit("broken at HEAD")
    write("loom.yaml", "stages: {a: {cmd: x}}\n")
    r = cli("params", "diff")
    assert r.code == 1 and "At HEAD, loom.yaml:1:" in r.err and "Traceback" not in r.err


def test_no_params_anywhere_is_a_warning_not_an_error(ws, cli):  # noqa: F811
    write("README", "x")
    commit("one")
    r = cli("params", "diff")
    assert r.code == 0 and "Warning: No params found" in r.err
