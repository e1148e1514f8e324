"""A model package shares the one object store: with a dataset of the same files, with a
teammate's clone (through the remote), and its code travels with it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from loom.data import pointer
from loom.errors import MissingObjectError
from loom.registry import api
from loom.tracking.client import Client
from tests.data.conftest import commit


def _objects(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_a_version_and_a_dataset_of_the_same_files_are_stored_once(
    ws, cli, store_uri, sk_model
) -> None:
    uri = None if store_uri.startswith("sqlite") else store_uri  # SQLite: the workspace's db
    with Client(uri) as client:
        assert client.artifact_root == ws.root / ".loom" / "cache"
        run = client.create_run(client.get_or_create_experiment("e").experiment_id)
        info = api.log_model(sk_model, "model", run_id=run.run_id, client=client)
        mv = api.register_model(info.model_uri, "churn", client=client)
        package = api.load_model("models:/churn/1", client=client).path
    shutil.copytree(package, ws.root / "data" / "model")
    cache = ws.root / ".loom" / "cache" / "blake3"
    before = _objects(cache)
    result = cli("add", "data/model")
    assert result.code == 0, result.err
    ptr = pointer.load(ws.root, "data/model.loom")
    assert ptr.hash == mv.tree == info.tree  # the dataset's tree is the version's tree
    assert _objects(cache) == before  # every file and the tree itself were already stored


def test_a_teammates_clone_fetches_the_model_from_the_remote(
    git_repo, tmp_path, cli, pg_store_uri, sk_model, data, monkeypatch
) -> None:
    X, _ = data
    w = git_repo
    assert cli("init").code == 0
    assert cli("remote", "add", "-d", "storage", str(tmp_path / "remote")).code == 0
    commit("loom")
    with Client(pg_store_uri) as client:
        run = client.create_run(client.get_or_create_experiment("e").experiment_id)
        api.log_model(
            sk_model, "model", run_id=run.run_id, client=client, registered_model_name="m"
        )
    w2 = tmp_path / "w2"
    subprocess.run(["git", "clone", "-q", str(w), str(w2)], check=True)
    monkeypatch.chdir(w2)
    with Client(pg_store_uri) as client:
        with pytest.raises(MissingObjectError) as missing:
            api.load_model("models:/m/1", client=client)
        assert "loom push" in (missing.value.hint or "")
        monkeypatch.chdir(w)
        assert cli("push").code == 0
        monkeypatch.chdir(w2)
        loaded = api.load_model("models:/m/1", client=client)
        assert np.array_equal(loaded.predict(X), sk_model.predict(X))
        assert loaded.path.is_relative_to(w2 / ".loom" / "cache")


MODULE = """
import numpy as np

class Scaler:
    def __init__(self, k):
        self.k = k

    def predict(self, data):
        return np.asarray(data) * self.k
"""

LOAD = """
import sys, loom
from loom.errors import LoomError
from loom.tracking.client import Client
client = Client(sys.argv[1])
try:
    loom.load_model(sys.argv[2], client=client)
except LoomError as exc:
    print("refused:", exc.message)
print(loom.load_model(sys.argv[2], client=client, trusted=True).predict([[1.0, 2.0]]).tolist())
"""


def test_code_paths_travel_with_the_model_and_need_trust(
    tmp_path, client, run_id, monkeypatch
) -> None:
    src = tmp_path / "project"
    src.mkdir()
    (src / "scaler_mod.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(src))
    import scaler_mod

    try:
        info = api.log_model(
            scaler_mod.Scaler(3.0),
            "model",
            run_id=run_id,
            client=client,
            code_paths=[src / "scaler_mod.py"],
        )
    finally:
        sys.modules.pop("scaler_mod", None)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", LOAD, client.tracking_uri, info.model_uri],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    refused, predicted = proc.stdout.strip().splitlines()
    assert "carries code (its code_paths)" in refused
    assert predicted == "[[3.0, 6.0]]"


def test_gc_keeps_a_registered_models_files_and_tree(ws, cli, sk_model, data) -> None:
    X, _ = data
    with Client() as client:  # the workspace's own store and cache
        run = client.create_run(client.get_or_create_experiment("e").experiment_id)
        info = api.log_model(
            sk_model, "model", run_id=run.run_id, client=client, registered_model_name="m"
        )
    cache = ws.root / ".loom" / "cache"
    stored = _objects(cache / "blake3")
    result = cli("gc", "--workspace", "--grace", "0")
    assert result.code == 0, result.err
    assert _objects(cache / "blake3") == stored
    shutil.rmtree(cache / "models")  # only the objects are left to load from
    with Client() as client:
        loaded = api.load_model("models:/m/1", client=client)
        assert loaded.metadata.tree == info.tree
        assert np.array_equal(loaded.predict(X), sk_model.predict(X))
