"""The real ``mlflow`` client against ``loom server``: the model registry.

A version's files must exist on the server before it is registered. Most tests
write a run's artifact rows and bytes straight into the server's store
(``_log_files``, what an upload through the artifact proxy leaves): quicker than
logging a real model; one test goes all the way through the proxy.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from loom.store import Store
from tests.server.registry_files import log_files, server_store, store_tree


def _name(prefix: str = "model") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def store(server) -> Iterator[Store]:  # type: ignore[no-untyped-def]
    s = server_store(server.cwd)
    yield s
    s.close()


def _log_files(server, store: Store, run_id: str, files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    return log_files(server.cwd, store, run_id, files)


def _model_run(server, store: Store, client, exp_id: str, content: str = "") -> str:  # type: ignore[no-untyped-def]
    run_id = client.create_run(exp_id).info.run_id
    files = {"model/MLmodel": b"flavors: {}\n", "model/model.bin": (content or run_id).encode()}
    _log_files(server, store, run_id, files)
    return run_id


def _error_code(exc: BaseException) -> str:
    return getattr(exc, "error_code", "")


def test_registered_model_lifecycle(server, mlflow_client) -> None:  # type: ignore[no-untyped-def]
    from mlflow.exceptions import MlflowException

    name = _name()
    created = mlflow_client.create_registered_model(name, tags={"team": "search"}, description="d")
    assert created.name == name and created.tags == {"team": "search"}
    assert created.description == "d" and created.latest_versions == []
    with pytest.raises(MlflowException) as exc:
        mlflow_client.create_registered_model(name)
    assert _error_code(exc.value) == "RESOURCE_ALREADY_EXISTS"
    raw = httpx.post(f"{server.url}/api/2.0/mlflow/registered-models/create", json={"name": name})
    assert raw.status_code == 400  # as MLflow answers it
    mlflow_client.update_registered_model(name, description="better")
    mlflow_client.set_registered_model_tag(name, "stage", "dev")
    mlflow_client.delete_registered_model_tag(name, "team")
    got = mlflow_client.get_registered_model(name)
    assert got.description == "better" and got.tags == {"stage": "dev"}
    assert got.last_updated_timestamp >= got.creation_timestamp > 0

    mlflow_client.rename_registered_model(name, name + "-v2")
    assert mlflow_client.get_registered_model(name + "-v2").tags == {"stage": "dev"}
    with pytest.raises(MlflowException) as exc:
        mlflow_client.get_registered_model(name)
    assert _error_code(exc.value) == "RESOURCE_DOES_NOT_EXIST"

    found = mlflow_client.search_registered_models(filter_string=f"name LIKE '{name}%'")
    assert [m.name for m in found] == [name + "-v2"]
    assert mlflow_client.search_registered_models(filter_string=f"name = '{name}'") == []
    exact = mlflow_client.search_registered_models(filter_string=f"name = '{name}-v2'")
    assert [m.name for m in exact] == [name + "-v2"]
    mlflow_client.delete_registered_model(name + "-v2")
    with pytest.raises(MlflowException) as exc:
        mlflow_client.get_registered_model(name + "-v2")
    assert _error_code(exc.value) == "RESOURCE_DOES_NOT_EXIST"
    assert mlflow_client.search_registered_models(filter_string=f"name LIKE '{name}%'") == []


def test_search_registered_models_pages_and_orders(mlflow_client) -> None:
    prefix = _name("paged")
    for i in range(3):
        mlflow_client.create_registered_model(f"{prefix}-{i}", tags={"i": str(i)})
    first = mlflow_client.search_registered_models(
        filter_string=f"name ILIKE '{prefix.upper()}%'", max_results=2, order_by=["name DESC"]
    )
    assert [m.name for m in first] == [f"{prefix}-2", f"{prefix}-1"] and first.token
    rest = mlflow_client.search_registered_models(
        filter_string=f"name ILIKE '{prefix.upper()}%'",
        max_results=2,
        order_by=["name DESC"],
        page_token=first.token,
    )
    assert [m.name for m in rest] == [f"{prefix}-0"] and not rest.token
    tagged = mlflow_client.search_registered_models(
        filter_string=f"name LIKE '{prefix}%' AND tags.i = '1'"
    )
    assert [m.name for m in tagged] == [f"{prefix}-1"]


def test_versions_are_numbered_searched_and_tagged(server, store, mlflow_client) -> None:  # type: ignore[no-untyped-def]
    from mlflow.exceptions import MlflowException

    exp_id = mlflow_client.create_experiment(_name("exp"))
    name = _name()
    mlflow_client.create_registered_model(name)
    runs = [_model_run(server, store, mlflow_client, exp_id) for _ in range(3)]
    versions = [
        mlflow_client.create_model_version(name, f"runs:/{r}/model", run_id=r, tags={"n": r[:4]})
        for r in runs
    ]
    assert [v.version for v in versions] == ["1", "2", "3"]
    assert versions[0].current_stage == "None" and versions[0].status == "READY"
    assert versions[0].run_id == runs[0] and versions[0].tags == {"n": runs[0][:4]}

    latest = mlflow_client.get_latest_versions(name)
    assert [v.version for v in latest] == ["3"]
    assert mlflow_client.get_latest_versions(name, stages=["Production"]) == []
    assert mlflow_client.get_registered_model(name).latest_versions[0].version == "3"

    by_name = mlflow_client.search_model_versions(f"name = '{name}'")
    assert sorted(v.version for v in by_name) == ["1", "2", "3"]
    by_run = mlflow_client.search_model_versions(f"run_id = '{runs[1]}'")
    assert [(v.name, v.version) for v in by_run] == [(name, "2")]
    ordered = mlflow_client.search_model_versions(
        f"name = '{name}' AND version_number >= 2", order_by=["version_number ASC"]
    )
    assert [v.version for v in ordered] == ["2", "3"]

    mlflow_client.update_model_version(name, "2", description="second")
    mlflow_client.set_model_version_tag(name, "2", "checked", "yes")
    mlflow_client.delete_model_version_tag(name, "2", "n")
    v2 = mlflow_client.get_model_version(name, "2")
    assert v2.description == "second" and v2.tags == {"checked": "yes"}
    uri = mlflow_client.get_model_version_download_uri(name, "2")
    assert uri == f"mlflow-artifacts:/{exp_id}/{runs[1]}/artifacts/model"

    # a version's files never change: if its run logs over them, the proxy can't serve it
    _log_files(server, store, runs[0], {"model/model.bin": b"overwritten"})
    with pytest.raises(MlflowException, match="have changed") as exc:
        mlflow_client.get_model_version_download_uri(name, "1")
    assert _error_code(exc.value) == "INVALID_STATE"

    mlflow_client.delete_model_version(name, "2")
    with pytest.raises(MlflowException) as exc:
        mlflow_client.get_model_version(name, "2")
    assert _error_code(exc.value) == "RESOURCE_DOES_NOT_EXIST"
    assert sorted(v.version for v in mlflow_client.search_model_versions(f"name='{name}'")) == [
        "1",
        "3",
    ]
    # the versions follow a rename
    mlflow_client.rename_registered_model(name, name + "-new")
    assert mlflow_client.get_model_version(name + "-new", "3").run_id == runs[2]


def test_aliases_move_and_keep_their_history(server, store, mlflow_client) -> None:  # type: ignore[no-untyped-def]
    from mlflow.exceptions import MlflowException

    exp_id = mlflow_client.create_experiment(_name("exp"))
    name = _name()
    mlflow_client.create_registered_model(name)
    for _ in range(2):
        run = _model_run(server, store, mlflow_client, exp_id)
        mlflow_client.create_model_version(name, f"runs:/{run}/model", run_id=run)
    mlflow_client.set_registered_model_alias(name, "champion", "1")
    mlflow_client.set_registered_model_alias(name, "champion", "2")  # a move
    mlflow_client.set_registered_model_alias(name, "backup", "1")
    assert mlflow_client.get_model_version_by_alias(name, "champion").version == "2"
    model = mlflow_client.get_registered_model(name)
    assert model.aliases == {"champion": "2", "backup": "1"}
    assert mlflow_client.get_model_version(name, "1").aliases == ["backup"]

    mlflow_client.delete_registered_model_alias(name, "champion")
    mlflow_client.delete_registered_model_alias(name, "never-set")  # fine, as in MLflow
    with pytest.raises(MlflowException) as exc:
        mlflow_client.get_model_version_by_alias(name, "champion")
    assert _error_code(exc.value) == "RESOURCE_DOES_NOT_EXIST"

    # Loom's extra: every move is an event, REST moves included
    history = store.get_alias_history(name, "champion")
    moves = [(e.kind.value, e.from_version, e.to_version) for e in history]
    assert sorted(moves, key=str) == sorted(
        [("set", None, 1), ("set", 1, 2), ("delete", 2, None)], key=str
    )
    # deleting a version takes its aliases with it (and says so in the history)
    mlflow_client.delete_model_version(name, "1")
    assert mlflow_client.get_registered_model(name).aliases == {}
    assert store.get_alias_history(name, "backup")[-1].to_version is None


def test_register_a_logged_model(server, store, mlflow_client) -> None:  # type: ignore[no-untyped-def]
    exp_id = mlflow_client.create_experiment(_name("exp"))
    run_id = mlflow_client.create_run(exp_id).info.run_id
    tree = _log_files(server, store, run_id, {"model/MLmodel": b"flavors: {}\n"})
    store_tree(server.cwd, tree)
    lm = store.create_logged_model(exp_id, "model", tree.oid, "sklearn", run_id=run_id)
    name = _name()
    mlflow_client.create_registered_model(name)
    mv = mlflow_client.create_model_version(name, f"models:/{lm.model_id}", model_id=lm.model_id)
    assert mv.run_id == run_id  # (MLflow's client drops model_id: the store has it)
    assert store.get_model_version(name, 1).model_id == lm.model_id
    uri = mlflow_client.get_model_version_download_uri(name, mv.version)
    assert uri == f"mlflow-artifacts:/{exp_id}/models/{lm.model_id}/artifacts"
    assert store.get_model_version(name, 1).tree == tree.oid  # the files are fixed

    # the same files under the logged model's artifact location: the same version
    location = f"mlflow-artifacts:/{exp_id}/models/{lm.model_id}/artifacts"
    again = mlflow_client.create_model_version(name, location)
    assert again.version == mv.version
    # copy_model_version registers models:/NAME/VERSION: the same tree, another model
    copy = mlflow_client.copy_model_version(f"models:/{name}/1", _name("copy"))
    assert copy.version == "1" and copy.source == f"models:/{name}/1"
    assert store.get_model_version(copy.name, 1).tree == tree.oid


def test_registry_errors_are_mlflow_errors(server, store, mlflow_client) -> None:  # type: ignore[no-untyped-def]
    from mlflow.exceptions import MlflowException

    missing = _name("missing")
    for call in (
        lambda: mlflow_client.get_registered_model(missing),
        lambda: mlflow_client.get_model_version(missing, "1"),
        lambda: mlflow_client.get_latest_versions(missing),
        lambda: mlflow_client.delete_registered_model(missing),
        lambda: mlflow_client.create_model_version(missing, "models:/m-" + "0" * 32),
    ):
        with pytest.raises(MlflowException) as exc:
            call()
        assert _error_code(exc.value) == "RESOURCE_DOES_NOT_EXIST", exc.value
    name = _name()
    mlflow_client.create_registered_model(name)
    exp_id = mlflow_client.create_experiment(_name("exp"))
    run = _model_run(server, store, mlflow_client, exp_id)
    mlflow_client.create_model_version(name, f"runs:/{run}/model", run_id=run)
    with pytest.raises(MlflowException, match="stages are not supported") as exc:
        mlflow_client.transition_model_version_stage(name, "1", "Production")
    assert _error_code(exc.value) == "INVALID_PARAMETER_VALUE"
    for bad in (
        lambda: mlflow_client.get_model_version(name, "one"),
        lambda: mlflow_client.search_model_versions("name = "),
        lambda: mlflow_client.search_registered_models(order_by=["tags.x"]),
        lambda: mlflow_client.get_latest_versions(name, stages=["Bogus"]),
    ):
        with pytest.raises(MlflowException) as exc:
            bad()
        assert _error_code(exc.value) == "INVALID_PARAMETER_VALUE", exc.value


def test_sklearn_model_registered_and_loaded_by_alias(mlflow_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Through the artifact proxy: log_model, register_model, an alias, load by alias."""
    # no subprocess inferring requirements, no check of them on load: not what's tested
    monkeypatch.setenv("MLFLOW_SKIP_PIP_REQUIREMENTS_CHECK", "true")
    monkeypatch.setenv("MLFLOW_REQUIREMENTS_INFERENCE_TIMEOUT", "1")
    import mlflow
    import numpy as np
    from sklearn.linear_model import LinearRegression

    X = np.array([[0.0], [1.0], [2.0]])
    model = LinearRegression().fit(X, np.array([0.0, 2.0, 4.0]))
    name = _name("sk")
    mlflow.set_experiment(_name("exp"))
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(  # cloudpickle: importing skops alone takes 2 s
            model,
            name="model",
            pip_requirements=["scikit-learn"],
            serialization_format="cloudpickle",
        )
    mv = mlflow.register_model(info.model_uri, name)
    mlflow_client.set_registered_model_alias(name, "champion", mv.version)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert list(loaded.predict(np.array([[3.0]]))) == pytest.approx([6.0])
    # runs:/RUN/model finds the run's logged model: the same files, so the same version
    again = mlflow.register_model(f"runs:/{info.run_id}/model", name)
    assert again.version == mv.version


def test_run_artifacts_registered_through_the_proxy(mlflow_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """MLflow 2's way: a model folder among the run's artifacts, registered by runs:/."""
    import mlflow

    exp_id = mlflow_client.create_experiment(_name("exp"))
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_text("flavors: {}\n", "model/MLmodel")
        mlflow.log_text("weights", "model/data/weights.txt")
    name = _name()
    mv = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    location = f"mlflow-artifacts:/{exp_id}/{run.info.run_id}/artifacts/model"
    assert mv.source == location and mv.run_id == run.info.run_id
    assert mlflow_client.get_model_version_download_uri(name, mv.version) == location
    for i, uri in enumerate((f"models:/{name}/1", f"models:/{name}/latest")):
        got = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / str(i))))
        assert (got / "data" / "weights.txt").read_text() == "weights"
