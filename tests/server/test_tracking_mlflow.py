"""The real ``mlflow`` client against ``loom server``: experiments, runs, logging, search."""

from __future__ import annotations

import math
import uuid

import httpx
import pytest


def _name() -> str:
    return "exp-" + uuid.uuid4().hex[:8]


def test_fluent_run_round_trip(mlflow_client) -> None:
    import mlflow

    mlflow.set_experiment(_name())
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.log_metric("loss", 0.7, step=0)  # logged later, earlier step
        mlflow.log_metrics({"acc": 0.9, "f1": float("nan")})
        mlflow.set_tag("team", "search")
    got = mlflow_client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.info.run_name == "first"
    assert got.data.params == {"lr": "0.1"}
    assert got.data.metrics["loss"] == 0.5  # the value at the largest step, as MLflow
    assert got.data.metrics["acc"] == 0.9
    assert math.isnan(got.data.metrics["f1"])
    assert got.data.tags["team"] == "search"
    assert got.data.tags["mlflow.runName"] == "first"
    latest = {m.key: (m.step, m.value) for m in got.data._metric_objs}
    assert latest["loss"] == (1, 0.5)
    history = mlflow_client.get_metric_history(run.info.run_id, "loss")
    assert sorted((m.step, m.value) for m in history) == [(0, 0.7), (1, 0.5)]


def test_search_runs_with_mlflow_filters(mlflow_client) -> None:
    import mlflow

    exp_id = mlflow_client.create_experiment(_name())
    for lr, loss in (("0.1", 0.3), ("0.01", 0.2), ("1e-3", 0.6)):
        with mlflow.start_run(experiment_id=exp_id):
            mlflow.log_param("lr", lr)
            mlflow.log_metric("loss", loss)
    runs = mlflow_client.search_runs(
        [exp_id], "metrics.loss < 0.5", order_by=["metrics.loss ASC"], max_results=10
    )
    assert [r.data.params["lr"] for r in runs] == ["0.01", "0.1"]
    page = mlflow_client.search_runs([exp_id], "", max_results=2)
    assert len(page) == 2 and page.token
    rest = mlflow_client.search_runs([exp_id], "", max_results=2, page_token=page.token)
    assert len(rest) == 1
    frame = mlflow.search_runs([exp_id], filter_string="params.lr = '0.1'")
    assert list(frame["params.lr"]) == ["0.1"]


def test_experiments_lifecycle(mlflow_client) -> None:
    name = _name()
    exp_id = mlflow_client.create_experiment(name, tags={"k": "v"})
    exp = mlflow_client.get_experiment_by_name(name)
    assert exp.experiment_id == exp_id and exp.tags == {"k": "v"}
    assert exp.artifact_location == f"mlflow-artifacts:/{exp_id}"
    mlflow_client.rename_experiment(exp_id, name + "-2")
    assert mlflow_client.get_experiment(exp_id).name == name + "-2"
    mlflow_client.delete_experiment(exp_id)
    assert mlflow_client.get_experiment(exp_id).lifecycle_stage == "deleted"
    mlflow_client.restore_experiment(exp_id)
    found = mlflow_client.search_experiments(filter_string=f"name = '{name}-2'")
    assert [e.experiment_id for e in found] == [exp_id]
    assert mlflow_client.get_experiment_by_name("no-such-" + name) is None


def test_log_batch_and_tags(mlflow_client) -> None:
    from mlflow.entities import Metric, Param, RunTag

    exp_id = mlflow_client.create_experiment(_name())
    run = mlflow_client.create_run(exp_id)
    rid = run.info.run_id
    metrics = [Metric("m", float(i), 1000 + i, i) for i in range(1000)]
    mlflow_client.log_batch(rid, metrics=metrics, params=[Param("p", "1")], tags=[RunTag("t", "x")])
    assert len(mlflow_client.get_metric_history(rid, "m")) == 1000
    mlflow_client.delete_tag(rid, "t")
    assert "t" not in mlflow_client.get_run(rid).data.tags
    mlflow_client.set_tag(rid, "mlflow.runName", "renamed")
    assert mlflow_client.get_run(rid).info.run_name == "renamed"
    mlflow_client.set_terminated(rid, "KILLED")
    assert mlflow_client.get_run(rid).info.status == "KILLED"


def test_dataset_inputs(mlflow_client) -> None:
    import mlflow
    import pandas as pd

    mlflow.set_experiment(_name())
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(frame, source="s3://bucket/train.csv", name="train")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
        mlflow.log_input(dataset, context="training")  # again: recorded once
    inputs = mlflow_client.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "train"
    assert inputs[0].dataset.digest == dataset.digest
    assert {t.key: t.value for t in inputs[0].tags} == {"mlflow.data.context": "training"}


def test_errors_are_mlflows(mlflow_client, server) -> None:
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as err:
        mlflow_client.get_run("0" * 32)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    name = _name()
    mlflow_client.create_experiment(name)
    with pytest.raises(MlflowException) as err:
        mlflow_client.create_experiment(name)
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"
    r = httpx.post(server.url + "/api/2.0/mlflow/runs/log-metric", json={"run_id": "x"})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    r = httpx.get(server.url + "/api/2.0/mlflow/no/such/call")
    assert r.status_code == 404 and r.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    r = httpx.get(server.url + "/api/2.0/mlflow/runs/log-metric")
    assert r.status_code == 405
