"""``loom push --all-commits | --all-tags | --all-branches``: what git history references."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from loom.data import sync
from loom.data.add import add
from loom.data.gc import gc
from loom.data.remotes import add_remote
from loom.data.workspace import Workspace
from loom.objects.remote import open_remote

from .conftest import commit, git, make_dataset, snapshot, write


def _on_remote(folder: Path, oids: set[str], scratch: Path) -> set[str]:
    remote = open_remote(str(folder))
    index, _ = remote.load_index(scratch)
    return oids - remote.missing(sorted(oids), index)


def _version(ws, text: str, message: str) -> str:
    write("model.bin", text)
    [ptr] = add(ws, ["model.bin"])
    commit(message)
    return ptr.hash


def test_each_flag_sends_what_its_commits_reference(ws, cli, tmp_path):
    a = _version(ws, "a", "a")
    git("tag", "-a", "v1", "-m", "annotated")
    b = _version(ws, "b", "b")
    git("tag", "light")
    c = _version(ws, "c", "c: in history only")
    git("checkout", "-q", "-b", "side")
    d = _version(ws, "d", "d: tip of side")
    git("checkout", "-q", "main")
    e = _version(ws, "e", "e: tip of main, checked out")
    every = {a, b, c, d, e}
    expected = {
        "plain": {e},
        "all-tags": {a, b, e},
        "all-branches": {d, e},
        "all-commits": every,
    }
    for flag, want in expected.items():
        add_remote(ws, flag, str(tmp_path / flag))
        r = cli("push", "-r", flag, *([] if flag == "plain" else [f"--{flag}"]))
        assert r.code == 0, r.err
        assert _on_remote(tmp_path / flag, every, tmp_path / "idx" / flag) == want, flag
    # the console script's fast path hands these flags on to the full parser
    exe = Path(sys.executable).parent / "loom"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "loom"]
    r = subprocess.run(
        [*cmd, "push", "-r", "all-tags", "--all-tags", "--json"],
        cwd=ws.root,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and json.loads(r.stdout)["transferred"] == 0, r.stderr


def test_old_versions_missing_here_but_on_the_remote_are_fine_and_the_rest_is_listed(
    ws, cli, tmp_path
):
    """Old versions gc dropped from the cache: those on the remote are fine; those in
    neither place are listed, after everything else was pushed."""
    add_remote(ws, "storage", str(tmp_path / "remote"), default=True)
    make_dataset("data/raw", n=3)
    write("model.bin", "a")
    [raw1, model_a] = add(ws, ["data/raw", "model.bin"])
    commit("v1")
    sync.push(ws)  # v1 is on the remote
    write("data/raw/part-000.csv", "v2\n")
    write("model.bin", "b")
    make_dataset("other", n=2)
    [raw2, model_b, other1] = add(ws, ["data/raw", "model.bin", "other"])
    commit("v2, never pushed")
    write("data/raw/part-001.csv", "v3\n")
    write("model.bin", "c")
    write("other/part-000.csv", "v3\n")
    [raw3, model_c, other2] = add(ws, ["data/raw", "model.bin", "other"])
    commit("v3")
    gc(ws, grace_seconds=0)  # v1 and v2 leave the cache
    assert not ws.odb.exists(raw1.hash) and not ws.odb.exists(model_b.hash)
    write("model.bin", "d")
    [model_d] = add(ws, ["model.bin"])
    commit("v4: model only")  # v3's model is in the cache, not checked out, not pushed

    r = cli("push", "--all-commits")
    assert r.code == 1 and "Traceback" not in r.err
    lost = [
        f"data/raw@{raw2.hash[:8]}",
        f"other@{other1.hash[:8]}",
        f"model.bin@{model_b.hash[:8]}",
    ]
    for name in lost:
        assert name in r.err, r.err
    for fine in (raw1, model_a, raw3, other2, model_c, model_d):
        assert fine.hash[:8] not in r.err
    assert "3 version(s)" in r.err and "Everything else was pushed" in r.err
    sent = {raw3.hash, other2.hash, model_c.hash, model_d.hash}
    assert _on_remote(tmp_path / "remote", sent, tmp_path / "idx") == sent

    # what was pushed is complete: a fresh clone gets v3 and v4 back
    clone = tmp_path / "clone"
    git("clone", "-q", str(ws.root), str(clone))
    git("checkout", "-q", "HEAD~1", cwd=clone)
    sync.pull(Workspace(clone))
    assert snapshot(clone / "data/raw") == snapshot(ws.root / "data/raw")
    assert (clone / "model.bin").read_text() == "c"
