"""The real ``mlflow`` client's artifacts and MLflow 3 logged models against ``loom server``."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest


def _experiment(mlflow_client) -> str:  # type: ignore[no-untyped-def]
    import mlflow

    return mlflow.set_experiment("art-" + uuid.uuid4().hex[:8]).experiment_id


def _store(server):  # type: ignore[no-untyped-def]
    from loom.store import Store

    return Store(f"sqlite:///{server.cwd / 'loom.db'}")


def test_log_and_read_artifacts(mlflow_client, tmp_path: Path) -> None:
    import mlflow

    _experiment(mlflow_client)
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.csv").write_text("x,y\n1,2\n")
    (src / "sub" / "deeper" / "c.bin").write_bytes(b"\x00\x01")
    single = tmp_path / "notes.md"
    single.write_text("# notes")
    odd = tmp_path / "r&d 100% é (1).txt"  # spaces, %, &, non-ASCII: names, not attacks
    odd.write_text("odd")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(src), "data")
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(odd), "odd")
        mlflow.log_text("hello text", "texts/hello.txt")
        mlflow.log_dict({"k": [1, 2]}, "conf/settings.json")
    rid = run.info.run_id
    top = mlflow_client.list_artifacts(rid)
    assert [(f.path, f.is_dir) for f in top] == [
        ("conf", True),
        ("data", True),
        ("notes.md", False),
        ("odd", True),
        ("texts", True),
    ]
    assert [f.path for f in mlflow_client.list_artifacts(rid, "odd")] == [f"odd/{odd.name}"]
    assert mlflow.artifacts.load_text(f"runs:/{rid}/odd/{odd.name}") == "odd"
    assert [f.file_size for f in top if not f.is_dir] == [7]
    nested = mlflow_client.list_artifacts(rid, "data/sub")
    assert [(f.path, f.is_dir) for f in nested] == [
        ("data/sub/b.csv", False),
        ("data/sub/deeper", True),
    ]
    assert mlflow_client.list_artifacts(rid, "notes.md") == []  # a file lists as nothing
    assert mlflow.artifacts.load_text(f"runs:/{rid}/texts/hello.txt") == "hello text"
    assert mlflow.artifacts.load_dict(f"runs:/{rid}/conf/settings.json") == {"k": [1, 2]}
    out = Path(mlflow_client.download_artifacts(rid, "data", str(tmp_path / "dl")))
    assert (out / "a.txt").read_text() == "alpha"
    assert (out / "sub" / "deeper" / "c.bin").read_bytes() == b"\x00\x01"


def test_large_binary_round_trip_and_dedup(mlflow_client, server, tmp_path: Path) -> None:
    import mlflow

    _experiment(mlflow_client)
    blob = tmp_path / "big.bin"
    data = os.urandom(5 * 1024 * 1024)
    blob.write_bytes(data)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(blob), "one")
        mlflow.log_artifact(str(blob), "two")
    rid = run.info.run_id
    got = Path(mlflow_client.download_artifacts(rid, "two/big.bin", str(tmp_path / "dl")))
    assert got.read_bytes() == data
    import blake3

    oid = blake3.blake3(data).hexdigest()
    rows = _store(server).list_artifacts(rid)
    assert {(a.path, a.hash, a.size) for a in rows} == {
        ("one/big.bin", oid, len(data)),
        ("two/big.bin", oid, len(data)),
    }
    outputs = {(o.path, o.hash, o.kind) for o in _store(server).list_outputs(rid)}
    assert outputs == {("one/big.bin", oid, "file"), ("two/big.bin", oid, "file")}  # lineage
    stored = list((server.cwd / "mlartifacts").rglob(oid[2:] + "*"))
    assert len(stored) == 1  # same bytes twice, stored once


@pytest.fixture
def quick_sklearn(monkeypatch):  # type: ignore[no-untyped-def]
    """The client's own checks that don't touch the server: pip's metadata, and the
    subprocess that infers requirements (capped; its fallback is the flavor's defaults)."""
    monkeypatch.setenv("MLFLOW_SKIP_PIP_REQUIREMENTS_CHECK", "true")
    monkeypatch.setenv("MLFLOW_REQUIREMENTS_INFERENCE_TIMEOUT", "1")


def test_sklearn_log_model_and_load(mlflow_client, server, quick_sklearn) -> None:
    import mlflow
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    _experiment(mlflow_client)
    X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
    model = LogisticRegression().fit(X, y)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(  # cloudpickle: skops' import alone takes 2 s
            model,
            name="model",
            pip_requirements=["scikit-learn"],
            serialization_format="cloudpickle",
        )
    lm = mlflow_client.get_logged_model(info.model_id)
    assert lm.status.to_proto() == 2  # LOGGED_MODEL_READY
    assert lm.source_run_id == run.info.run_id
    assert lm.artifact_location.endswith(f"/models/{info.model_id}/artifacts")
    for uri in (f"models:/{info.model_id}", f"runs:/{run.info.run_id}/model"):
        loaded = mlflow.sklearn.load_model(uri)
        assert list(loaded.predict([[0.0], [3.0]])) == [0, 1]
    got = mlflow_client.get_run(run.info.run_id)
    assert [o.model_id for o in got.outputs.model_outputs] == [info.model_id]
    # Loom's side: the package is a tree object, the run's model output names it
    store = _store(server)
    row = store.get_logged_model(info.model_id)
    assert row.flavor == "sklearn" and row.tree
    outputs = store.list_outputs(run.info.run_id)
    assert [(o.kind, o.path, o.hash) for o in outputs] == [("model", "model", row.tree)]
    from loom.server.blobs import open_blobs

    blobs = open_blobs(str(server.cwd / "mlartifacts"))
    from loom.objects.tree import Tree

    names = {e.path for e in Tree.from_bytes(blobs.read_bytes(row.tree)).entries}
    assert "MLmodel" in names and any(n.startswith("model.") for n in names), names


def test_logged_model_calls(mlflow_client) -> None:
    import mlflow

    exp = _experiment(mlflow_client)
    lm = mlflow.initialize_logged_model(name="agent", tags={"team": "a"}, params={"k": "v"})
    assert lm.status.to_proto() == 1  # PENDING
    mlflow_client.set_logged_model_tags(lm.model_id, {"stage": "dev"})
    mlflow_client.delete_logged_model_tag(lm.model_id, "team")
    mlflow_client.log_model_params(lm.model_id, {"depth": "3"})
    got = mlflow_client.get_logged_model(lm.model_id)
    assert got.tags.get("stage") == "dev" and "team" not in got.tags
    assert got.params == {"k": "v", "depth": "3"}
    done = mlflow_client.finalize_logged_model(lm.model_id, "READY")
    assert done.status.to_proto() == 2
    other = mlflow.initialize_logged_model(name="other")
    found = mlflow_client.search_logged_models([exp], filter_string="name = 'agent'")
    assert [m.model_id for m in found] == [lm.model_id]
    both = mlflow_client.search_logged_models([exp], order_by=[{"field_name": "name"}])
    assert [m.name for m in both] == ["agent", "other"]
    tagged = mlflow_client.search_logged_models([exp], filter_string="tags.stage = 'dev'")
    assert [m.model_id for m in tagged] == [lm.model_id]
    mlflow_client.delete_logged_model(other.model_id)
    assert [m.model_id for m in mlflow_client.search_logged_models([exp])] == [lm.model_id]
    with pytest.raises(mlflow.exceptions.MlflowException, match=r"RESOURCE_DOES_NOT_EXIST|deleted"):
        mlflow_client.get_logged_model(other.model_id)
    # a model made outside any run becomes an output of the run that logs it
    external = mlflow.create_external_model(name="ext", experiment_id=exp)
    assert not external.source_run_id
    from mlflow.entities import LoggedModelOutput

    run = mlflow_client.create_run(exp)
    mlflow_client.log_outputs(run.info.run_id, [LoggedModelOutput(external.model_id, step=0)])
    outputs = mlflow_client.get_run(run.info.run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [external.model_id]


def test_sklearn_autolog(mlflow_client, quick_sklearn) -> None:
    import mlflow
    import mlflow.sklearn
    from sklearn.tree import DecisionTreeClassifier

    _experiment(mlflow_client)
    mlflow.sklearn.autolog(log_input_examples=False, log_model_signatures=False, silent=True)
    try:
        with mlflow.start_run() as run:
            DecisionTreeClassifier(max_depth=2).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    finally:
        mlflow.sklearn.autolog(disable=True)
    got = mlflow_client.get_run(run.info.run_id)
    assert got.data.params["max_depth"] == "2"
    assert "training_accuracy_score" in got.data.metrics
    [out] = got.outputs.model_outputs
    lm = mlflow_client.get_logged_model(out.model_id)
    assert lm.status.to_proto() == 2
    files = {f.path for f in mlflow_client.list_logged_model_artifacts(out.model_id)}
    assert "MLmodel" in files


def test_multipart_request_falls_back_to_one_put(
    mlflow_client, monkeypatch, tmp_path: Path
) -> None:
    import mlflow

    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1")
    _experiment(mlflow_client)
    f = tmp_path / "part.bin"
    f.write_bytes(b"abc" * 1000)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(f))
    got = mlflow_client.download_artifacts(run.info.run_id, "part.bin", str(tmp_path / "dl"))
    assert Path(got).read_bytes() == b"abc" * 1000


@pytest.mark.postgres
def test_postgres_store_and_s3_artifacts(pg_url, s3_env, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The team setup: metadata in PostgreSQL, bytes in a bucket (moto's S3)."""
    import mlflow
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    from tests.server.conftest import start_server
    from tests.store.conftest import fresh_pg_schema

    env = {k: v for k, v in s3_env.items() if k.startswith("AWS_")}
    env["LOOM_S3_ENDPOINT_URL"] = s3_env["endpoint_url"]
    dest = f"s3://{s3_env['bucket']}/artifacts"
    with fresh_pg_schema(pg_url) as uri:
        srv = start_server(
            tmp_path / "srv", "--backend-store-uri", uri, "--artifacts-destination", dest, env=env
        )
        try:
            monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
            monkeypatch.setenv("MLFLOW_SKIP_PIP_REQUIREMENTS_CHECK", "true")
            mlflow.set_tracking_uri(srv.url)
            client = mlflow.MlflowClient(srv.url)
            mlflow.set_experiment("team")
            model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
            with mlflow.start_run() as run:
                mlflow.log_text("on s3", "notes/a.txt")
                info = mlflow.sklearn.log_model(
                    model,
                    name="clf",
                    pip_requirements=["scikit-learn"],
                    serialization_format="cloudpickle",
                )
            rid = run.info.run_id
            assert mlflow.artifacts.load_text(f"runs:/{rid}/notes/a.txt") == "on s3"
            assert [f.path for f in client.list_artifacts(rid, "notes")] == ["notes/a.txt"]
            exp = run.info.experiment_id
            found = client.search_logged_models([exp], filter_string="name = 'clf'")
            assert [m.model_id for m in found] == [info.model_id]
            loaded = mlflow.sklearn.load_model(f"models:/{info.model_id}")
            assert list(loaded.predict([[3.0]])) == [1]
        finally:
            mlflow.set_tracking_uri(None)
            srv.stop()
    assert not (tmp_path / "srv" / "mlartifacts").exists()  # the bytes went to the bucket


def test_a_finalized_logged_models_files_are_fixed(mlflow_client, server) -> None:
    """A model version names a READY model's tree, so its files can't change afterwards:
    an upload or a delete into it is a 409, and the files stay as they were."""
    import httpx
    import mlflow

    exp = _experiment(mlflow_client)
    lm = mlflow.initialize_logged_model(name="fixed", experiment_id=exp)
    url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{exp}/models/{lm.model_id}/artifacts"
    assert httpx.put(f"{url}/weights.bin", content=b"v1").status_code == 200
    mlflow_client.finalize_logged_model(lm.model_id, "READY")
    again = httpx.put(f"{url}/weights.bin", content=b"v2")
    assert again.status_code == 409 and again.json()["error_code"] == "INVALID_STATE"
    assert httpx.put(f"{url}/extra.txt", content=b"x").status_code == 409
    assert httpx.delete(f"{url}/weights.bin").status_code == 409
    assert httpx.get(f"{url}/weights.bin").content == b"v1"
    folder = f"{exp}/models/{lm.model_id}/artifacts"
    listed = httpx.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts", params={"path": folder})
    assert [f["path"] for f in listed.json()["files"]] == ["weights.bin"]
