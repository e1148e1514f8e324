"""CLI behaviour around the library: progress bars, multi-path validation, relative remotes."""

from __future__ import annotations

import io
import os
from pathlib import Path

from rich.console import Console

from loom.cli import output

from .conftest import make_dataset, snapshot


def test_progress_bars_go_to_stderr_on_a_terminal(ws, cli, monkeypatch):
    fake_tty = io.StringIO()
    monkeypatch.setattr(output, "err_console", Console(file=fake_tty, force_terminal=True))
    make_dataset("data", n=200)
    r = cli("add", "data")
    assert r.code == 0 and "Hashing data" in fake_tty.getvalue()
    assert "Hashing" not in r.out
    fake_tty.truncate(0)
    assert cli("add", "-q", "data").code == 0 and fake_tty.getvalue() == ""


def test_one_bad_path_means_nothing_is_added(ws, cli):
    make_dataset("good", n=2)
    before = snapshot(ws.root)
    r = cli("add", "good", "missing")
    assert r.code == 1 and "missing does not exist" in r.err
    assert not Path("good.loom").exists() and not Path(".gitignore").exists()
    after = snapshot(ws.root)
    assert {k: v for k, v in after.items() if not k.startswith(".loom/")} == {
        k: v for k, v in before.items() if not k.startswith(".loom/")
    }


def test_relative_remote_is_relative_to_the_workspace(ws, cli):
    make_dataset("data", n=2)
    assert cli("add", "data").code == 0
    assert cli("remote", "add", "-d", "near", "../near-remote").code == 0
    os.chdir("data")  # push from a subfolder: the remote is still beside the workspace
    r = cli("push", "--json")
    assert r.code == 0, r.err
    assert (ws.root.parent / "near-remote").is_dir()
    assert not (ws.root / "near-remote").exists()
