"""Outputs recorded by log_artifact(s), with no extra call: a file's hash, a folder's tree
hash, computed by the rules of `loom add` so that a later run's log_input of the same
bytes has the same hash (that is how lineage links the two runs)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

import loom
from loom.cli.main import run as loom_cli
from loom.errors import LoomWarning
from loom.objects.hashing import hash_bytes
from loom.store.entities import RunOutput
from loom.tracking import fluent


def _folder(root: Path) -> Path:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()  # holds no file: not part of the version, as in git
    (root / "a.csv").write_text("id\n1\n")
    (root / "sub" / "b.csv").write_text("id\n2\n")
    (root / "sub" / "deeper" / "c.bin").write_bytes(os.urandom(3000))
    run_sh = root / "run.sh"
    run_sh.write_text("#!/bin/sh\necho hi\n")
    run_sh.chmod(0o755)  # the exec bit is part of a tree entry
    (root / "link.csv").symlink_to(root / "a.csv")  # a link to a file: stored as the file
    (root / "half.csv.loomtmp").write_text("a killed checkout's temp file")
    return root


def test_log_artifact_records_the_file_as_an_output(client, tmp_path: Path) -> None:
    run = client.create_run(client.create_experiment("e").experiment_id)
    (tmp_path / "metrics.json").write_text('{"auc": 0.9}')
    art = client.log_artifact(run.run_id, tmp_path / "metrics.json", artifact_path="eval")
    expected = RunOutput("eval/metrics.json", hash_bytes(b'{"auc": 0.9}'), 12, "file")
    assert art.hash == expected.hash
    assert client.list_outputs(run.run_id) == [expected]


def test_a_logged_folder_has_the_hash_its_data_version_has(client, git_repo: Path) -> None:
    assert loom_cli(["init"]) == 0
    folder = _folder(git_repo / "processed")
    run = client.create_run(client.create_experiment("e").experiment_id)
    arts = client.log_artifacts(run.run_id, folder, artifact_path="data/processed")

    assert "data/processed/half.csv.loomtmp" not in {a.path for a in arts}
    (out,) = client.list_outputs(run.run_id)
    assert (out.path, out.kind) == ("data/processed", "directory")
    assert out.size == sum(a.size for a in arts)
    untracked = loom.data.info(folder)  # what log_input records for an untracked folder
    assert out.hash == untracked.hash
    assert client.backend.odb.exists(out.hash)  # the listing is stored: the hash names bytes

    assert loom_cli(["add", "processed"]) == 0  # tracked now: the pointer has the same hash
    assert loom.data.info(folder).hash == out.hash
    reader = client.create_run(client.get_or_create_experiment("e").experiment_id)
    assert client.log_input(reader.run_id, folder).hash == out.hash

    # the same bytes logged again: one output; other bytes: another hash
    client.log_artifacts(run.run_id, folder, artifact_path="data/processed")
    assert len(client.list_outputs(run.run_id)) == 1
    os.chmod(folder / "run.sh", 0o644)
    client.log_artifacts(run.run_id, folder, artifact_path="data/processed")
    hashes = {o.hash for o in client.list_outputs(run.run_id)}
    assert len(hashes) == 2 and loom.data.info(folder).hash in hashes


def test_output_path_is_the_artifact_path_or_the_folder_name(client, tmp_path: Path) -> None:
    run = client.create_run(client.create_experiment("e").experiment_id)
    folder = tmp_path / "features"
    folder.mkdir()
    (folder / "x.csv").write_text("x\n")
    client.log_artifacts(run.run_id, folder)
    client.log_artifacts(run.run_id, folder, artifact_path="v2/feats/")
    (tmp_path / "empty").mkdir()
    assert client.log_artifacts(run.run_id, tmp_path / "empty") == []  # no content, no output
    assert [o.path for o in client.list_outputs(run.run_id)] == ["features", "v2/feats"]


def test_links_loom_cannot_follow_are_left_out_with_a_warning(client, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "ok.txt").write_text("ok")
    (folder / "dangling").symlink_to(tmp_path / "gone")
    run = client.create_run(client.create_experiment("e").experiment_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        arts = client.log_artifacts(run.run_id, folder)
    assert [a.path for a in arts] == ["ok.txt"]
    (warning,) = [w.message for w in caught if isinstance(w.message, LoomWarning)]
    assert "dangling" in str(warning) and "not logged" in str(warning)


def test_fluent_logging_records_outputs_too(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    loom.set_tracking_uri(f"sqlite:///{tmp_path / 'loom.db'}")
    (tmp_path / "model.bin").write_bytes(b"weights")
    with loom.start_run() as run:
        loom.log_artifact("model.bin")
    outs = loom.Client(f"sqlite:///{tmp_path / 'loom.db'}").list_outputs(run.run_id)
    assert outs == [RunOutput("model.bin", hash_bytes(b"weights"), 7, "file")]


def test_outputs_with_a_bad_kind_or_hash_are_refused(client) -> None:
    from loom.errors import ValidationError

    run = client.create_run(client.create_experiment("e").experiment_id)
    with pytest.raises(ValidationError, match="output kind"):
        client.log_outputs(run.run_id, [RunOutput("x", hash_bytes(b"x"), 1, "sneaky")])
    with pytest.raises(ValidationError, match="hash"):
        client.log_outputs(run.run_id, [RunOutput("x", "not a hash!", 1, "file")])
    assert client.list_outputs(run.run_id) == []


def test_gc_keeps_the_listing_a_folder_output_names(git_repo: Path, capsys) -> None:
    assert loom_cli(["init"]) == 0
    folder = _folder(git_repo / "features")
    with loom.start_run(capture_env=False) as run:
        loom.log_artifacts(folder, artifact_path="features")
    client = fluent.get_client()
    (out,) = client.list_outputs(run.run_id)
    cache = client.backend.odb
    assert cache.root == git_repo / ".loom" / "cache"
    capsys.readouterr()
    assert loom_cli(["gc", "--workspace", "--grace", "0"]) == 0
    assert cache.exists(out.hash)  # the run's refs name it, as they name its files
