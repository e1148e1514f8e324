"""Tracking inside a Loom workspace: default store, shared cache, data versions of tracked paths."""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path

import pytest
import yaml

import loom
from loom.cli.main import run as loom_cli
from loom.data.workspace import Workspace
from loom.errors import LoomWarning
from loom.objects.hashing import hash_bytes
from loom.tracking import fluent


def test_run_in_a_workspace_uses_its_store_cache_and_pointer_hashes(git_repo: Path, capsys) -> None:
    assert loom_cli(["init"]) == 0
    data = git_repo / "data" / "train"
    data.mkdir(parents=True)
    (data / "a.csv").write_text("x\n1\n")
    (data / "b.csv").write_text("x\n2\n")
    assert loom_cli(["add", "data/train"]) == 0
    pointer = yaml.safe_load((git_repo / "data" / "train.loom").read_text())
    (git_repo / "report.txt").write_text("x\n1\n")  # same bytes as a.csv
    capsys.readouterr()

    assert loom.get_tracking_uri() == f"sqlite:///{git_repo / '.loom' / 'loom.db'}"
    with loom.start_run() as run:
        version = loom.log_input("data/train")
        art = loom.log_artifact(git_repo / "report.txt")
    assert (version.path, version.hash, version.kind) == (
        "data/train",
        pointer["hash"],
        "directory",
    )
    cache = fluent.get_client().backend.odb
    assert cache.root == git_repo / ".loom" / "cache"
    assert cache.exists(art.hash)  # stored once: the data cache already held these bytes
    (got,) = fluent.get_client().get_run(run.run_id).inputs
    assert got.hash == pointer["hash"]


def test_artifact_sharing_bytes_with_packed_data_downloads_and_survives_gc(
    git_repo: Path, tmp_path: Path, capsys
) -> None:
    assert loom_cli(["init"]) == 0
    data = git_repo / "data"
    data.mkdir()
    for i in range(40):  # enough small files that `loom add` packs them
        (data / f"part-{i}.csv").write_text(f"id\n{i}\n")
    assert loom_cli(["add", "data"]) == 0
    cache = fluent.get_client().backend.odb
    (git_repo / "copy.csv").write_text("id\n7\n")  # same bytes as data/part-7.csv
    with loom.start_run(capture_env=False) as run:
        art = loom.log_artifact(git_repo / "copy.csv")
    assert cache.is_packed(art.hash)

    out = fluent.get_client().download_artifacts(run.run_id, "copy.csv", tmp_path / "dl")
    assert out.read_text() == "id\n7\n"

    # Drop the data from the workspace: gc must still keep the run's artifact.
    (git_repo / "data.loom").unlink()
    capsys.readouterr()
    assert loom_cli(["gc", "--workspace", "--grace", "0", "--json"]) == 0
    assert not cache.exists(hash_bytes(b"id\n1\n"))  # gc did remove unreferenced data
    assert cache.read(art.hash) == b"id\n7\n"


@pytest.mark.parametrize("kind", ["directory", "file"])
def test_log_input_of_an_edited_tracked_path_stores_what_the_run_read(
    client, git_repo: Path, capsys, kind: str
) -> None:
    """Uncommitted edits: the recorded hash must name bytes that exist (in the cache),
    the input says it was modified, and the user is told how to make it reproducible."""
    assert loom_cli(["init"]) == 0
    if kind == "directory":
        path, edited = "data/train", git_repo / "data" / "train" / "b.csv"
        edited.parent.mkdir(parents=True)
        (edited.parent / "a.csv").write_text("x\n1\n")
        edited.write_text("x\n2\n")
    else:
        path = "model.bin"
        edited = git_repo / path
        edited.write_bytes(b"weights v1\n")
    assert loom_cli(["add", path]) == 0
    _commit(git_repo)
    pointer = (git_repo / f"{path}.loom").read_text()
    committed = yaml.safe_load(pointer)["hash"]
    run = client.create_run(client.create_experiment("e").experiment_id)

    with warnings.catch_warnings(record=True) as clean:
        warnings.simplefilter("always")
        same = client.log_input(run.run_id, path)
    assert (same.hash, same.modified) == (committed, False)
    assert [w for w in clean if issubclass(w.category, LoomWarning)] == []

    edited.write_bytes(b"edited, never added\n")
    with pytest.warns(LoomWarning) as caught:
        got = client.log_input(run.run_id, path)
    warning = caught[0].message
    assert isinstance(warning, LoomWarning) and path in warning.message
    assert warning.hint is not None and f"loom add {path}" in warning.hint
    assert got.modified and got.hash != committed
    assert (git_repo / f"{path}.loom").read_text() == pointer  # the pointer is untouched
    cache = Workspace.find(git_repo).odb
    assert cache.exists(got.hash) and cache.exists(hash_bytes(b"edited, never added\n"))
    assert [(i.hash, i.modified) for i in client.get_run(run.run_id).inputs] == [
        (committed, False),
        (got.hash, True),
    ]

    capsys.readouterr()
    args = ["runs", "show", run.run_id, "--tracking-uri", client.tracking_uri]
    assert loom_cli([*args, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["inputs"]
    assert [i["modified"] for i in shown] == [False, True]
    assert loom_cli(args) == 0
    assert "modified" in capsys.readouterr().out

    # What the run read is referenced by it: gc keeps it though no pointer names it.
    assert loom_cli(["gc", "--workspace", "--grace", "0"]) == 0
    assert cache.exists(got.hash) and cache.exists(hash_bytes(b"edited, never added\n"))


def _commit(repo: Path) -> None:
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "data"], cwd=repo, check=True)
