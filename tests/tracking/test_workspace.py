"""Tracking inside a Loom workspace: default store, shared cache, data versions of tracked paths."""

from __future__ import annotations

from pathlib import Path

import yaml

import loom
from loom.cli.main import run as loom_cli
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
