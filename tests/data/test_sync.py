"""push / pull against a local folder and a real S3-compatible server (moto)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loom.data import sync
from loom.data.add import add
from loom.data.remotes import add_remote
from loom.data.workspace import Workspace, init
from loom.errors import CorruptObjectError

from .conftest import commit, git, make_dataset, snapshot, write


def _remote_object_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_push_sends_only_what_the_remote_lacks_and_pull_restores_a_clone(ws, cli, tmp_path):
    make_dataset("data/raw", n=40)
    write("model.bin", b"weights")
    add(ws, ["data/raw", "model.bin"])
    remote = tmp_path / "remote"
    assert cli("remote", "add", "-d", "storage", str(remote)).code == 0
    commit("v1")
    first = sync.push(ws)
    assert first.transferred == 42 and first.skipped == 0  # 40 files, 1 tree, 1 model
    assert sync.push(ws).transferred == 0
    write("data/raw/part-000.csv", "v2\n")
    add(ws, ["data/raw"])
    commit("v2")
    second = sync.push(ws)
    assert second.transferred == 2 and second.skipped == 40  # 39 files + model

    clone = tmp_path / "clone"
    git("clone", "-q", str(ws.root), str(clone))
    result = sync.pull(Workspace(clone))
    assert result.checkout is not None and result.checkout.written == 41
    assert snapshot(clone / "data/raw") == snapshot(ws.root / "data/raw")
    assert (clone / "model.bin").read_bytes() == b"weights"


def test_pull_only_named_paths_and_json_summary(ws, cli, tmp_path):
    make_dataset("a", n=3)
    make_dataset("b", n=3, seed=1)
    add(ws, ["a", "b"])
    add_remote(ws, "storage", str(tmp_path / "r"), default=True)
    r = cli("push", "--json")
    assert r.code == 0 and '"transferred": 8' in r.out
    shutil.rmtree(ws.odb.root)
    shutil.rmtree("a")
    shutil.rmtree("b")
    r = cli("pull", "a", "-j", "2", "--json")
    assert r.code == 0, r.err
    assert Path("a/part-000.csv").exists() and not Path("b").exists()


def test_corrupt_object_on_remote_is_detected_by_pull(ws, tmp_path):
    write("big.bin", bytes(range(256)) * 4096)  # 1 MiB: stored loose, travels loose
    make_dataset("small", n=3)
    [big, small] = add(ws, ["big.bin", "small"])
    remote = tmp_path / "remote"
    add_remote(ws, "storage", str(remote), default=True)
    sync.push(ws)
    files = _remote_object_files(remote)
    [obj] = [p for p in files if p.name == big.hash[2:]]
    data = bytearray(obj.read_bytes())
    data[1000] ^= 0xFF
    obj.chmod(0o644)
    obj.write_bytes(bytes(data))
    shutil.rmtree(ws.odb.root)
    Path("big.bin").unlink()
    with pytest.raises(CorruptObjectError) as err:
        sync.pull(ws, ["big.bin"])
    assert big.hash[2:] in err.value.message or str(remote) in err.value.message
    assert not Path("big.bin").exists() and not ws.odb.exists(big.hash)
    assert small.hash


@pytest.mark.s3
def test_push_pull_s3(s3_env, git_repo, cli, tmp_path):
    ws = init(git_repo)
    make_dataset("data/raw", n=25)
    write("data/raw/sub/x y.bin", b"\x00" * 70_000)
    add(ws, ["data/raw"])
    url = f"s3://{s3_env['bucket']}/loom"
    r = cli("remote", "add", "-d", "s3", url, "--endpoint-url", s3_env["endpoint_url"])
    assert r.code == 0, r.err
    commit("v1")
    assert sync.push(ws).transferred == 27
    assert sync.push(ws).transferred == 0
    clone = tmp_path / "clone"
    git("clone", "-q", str(git_repo), str(clone))
    r = sync.pull(Workspace(clone))
    assert r.transferred == 27
    assert snapshot(clone / "data/raw") == snapshot(git_repo / "data/raw")
