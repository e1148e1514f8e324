"""A hand-edited pointer that contradicts the data its hash names is reported, not trusted:
status shows it invalid (exit 1), checkout refuses it and still does the others."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from loom.data.add import add
from loom.data.status import status

from .conftest import loom_run, make_dataset, write


@pytest.fixture
def tracked(ws):
    make_dataset("data", n=4)
    write("model.bin", b"model bytes")
    write("notes.txt", b"notes")
    add(ws, ["data", "model.bin", "notes.txt"])
    return ws


def _edit(pointer: str, **fields: object) -> None:
    text = Path(pointer).read_text()
    for key, value in fields.items():
        if re.search(rf"^{key}: .*$", text, flags=re.M):
            text = re.sub(rf"^{key}: .*$", f"{key}: {value}", text, flags=re.M)
        else:
            text += f"{key}: {value}\n"
    Path(pointer).write_text(text)


CASES = {
    "file size": ("model.bin", {"size": 3}, "size: 3"),
    "folder size": ("data", {"size": 1}, "size: 1"),
    "folder files": ("data", {"files": 9}, "files: 9"),
    "dir on a file": ("model.bin", {"kind": "dir", "files": 1}, "kind: dir"),
    "file on a dir": ("data", {"kind": "file"}, "kind: file"),
}


@pytest.mark.parametrize("case", CASES)
def test_status_shows_the_pointer_invalid(tracked, case):
    path, fields, says = CASES[case]
    _edit(f"{path}.loom", **fields)
    rows = {r.path: r for r in status(tracked)}
    assert rows[path].state == "invalid", rows[path]
    assert says in rows[path].problem and f"{path}.loom" in rows[path].problem
    assert f"loom add {path}" in rows[path].hint
    assert rows["notes.txt"].state == "clean"
    r = loom_run("status", cwd=tracked.root)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "invalid" in r.stdout and "contradicts" in r.stdout


@pytest.mark.parametrize("case", CASES)
def test_checkout_refuses_the_pointer_and_does_the_others(tracked, case):
    path, fields, says = CASES[case]
    _edit(f"{path}.loom", **fields)
    for gone in (path, "notes.txt"):  # make checkout write both
        shutil.rmtree(gone) if os.path.isdir(gone) else os.remove(gone)
    r = loom_run("checkout", "--force", cwd=tracked.root)
    assert r.returncode == 1, r.stdout
    assert "Traceback" not in r.stderr
    assert f"{path}.loom" in r.stderr and says in r.stderr
    assert f"git checkout -- {path}.loom" in r.stderr  # the fix
    assert Path("notes.txt").read_bytes() == b"notes"  # the others are done
    assert not os.path.exists(path)  # nothing written from a contradicting pointer


def test_checkout_refuses_even_when_the_workspace_matches_the_hash(tracked):
    _edit("model.bin.loom", size=3)
    r = loom_run("checkout", "-f", cwd=tracked.root)
    assert r.returncode == 1 and "model.bin.loom" in r.stderr and "Traceback" not in r.stderr
    assert Path("model.bin").read_bytes() == b"model bytes"
