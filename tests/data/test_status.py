from __future__ import annotations

import os
import shutil
from pathlib import Path

from loom.data.add import add
from loom.data.checkout import checkout
from loom.data.status import status
from loom.data.workspace import init

from .conftest import make_dataset, write


def _by_path(ws):
    return {s.path: s for s in status(ws)}


def test_added_modified_deleted_and_exec_change(ws):
    make_dataset("data", n=4)
    write("data/tool.sh", "#!/bin/sh\n")
    add(ws, ["data"])
    write("data/part-000.csv", "edited")
    os.remove("data/part-001.csv")
    write("data/new dir/é.txt", "new")
    os.chmod("data/tool.sh", 0o755)
    s = _by_path(ws)["data"]
    assert s.state == "modified" and s.in_cache
    assert s.added == ["new dir/é.txt"]
    assert s.modified == ["part-000.csv", "tool.sh"]
    assert s.deleted == ["part-001.csv"]


def test_deleted_path_and_not_in_cache(ws):
    make_dataset("data", n=2)
    write("model.bin", b"m")
    add(ws, ["data", "model.bin"])
    os.remove("model.bin")
    s = _by_path(ws)
    assert s["model.bin"].state == "deleted" and s["model.bin"].in_cache
    assert s["data"].state == "clean"
    shutil.rmtree(ws.odb.root)
    s = _by_path(ws)
    assert s["data"].state == "clean" and not s["data"].in_cache
    assert not s["model.bin"].in_cache


def test_file_replaced_by_folder_and_back(ws):
    write("thing", "a file")
    add(ws, ["thing"])
    os.remove("thing")
    write("thing/inside.txt", "now a folder")
    assert _by_path(ws)["thing"].state == "modified"
    checkout(ws, ["thing"], force=True)
    assert Path("thing").read_text() == "a file"


def test_status_and_checkout_of_named_paths_only(ws):
    make_dataset("a", n=2)
    make_dataset("b", n=2)
    add(ws, ["a", "b"])
    write("a/part-000.csv", "x")
    shutil.rmtree("b")
    assert [s.path for s in status(ws, ["a.loom"])] == ["a"]
    checkout(ws, ["b"])
    assert Path("b/part-000.csv").exists()
    assert Path("a/part-000.csv").read_text() == "x"  # a was not named: left alone


def test_workspace_without_git(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ws = init(tmp_path, no_scm=True)
    make_dataset("d/e", n=2)
    add(ws, ["d/e"])
    assert [s.state for s in status(ws)] == ["clean"]
