"""The fluent API: run endings, nesting, auto-start, tracking URI."""

from __future__ import annotations

import pytest

import loom
from loom.errors import ConflictError, NotFoundError
from loom.store.entities import RunStatus
from loom.tracking import fluent


@pytest.fixture
def uri(store_uri: str) -> str:
    loom.set_tracking_uri(store_uri)
    return store_uri


def _status(run_id: str) -> RunStatus:
    return fluent.get_client().get_run(run_id).status


def test_quick_start_from_the_issue(uri: str, tmp_path) -> None:
    (tmp_path / "training_config.yaml").write_text("lr: 0.001\n")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "eval.txt").write_text("ok\n")
    loom.set_experiment("rag-embedding-model")
    with loom.start_run(name="exp-001") as run:
        assert loom.active_run().run_id == run.run_id == run.info.run_id
        loom.log_params({"learning_rate": 0.001, "epochs": 10, "batch_size": 32})
        loom.log_input(tmp_path / "reports")
        for epoch in range(10):
            loom.log_metric("train_loss", 1.0 / (epoch + 1), step=epoch)
        loom.log_metrics({"val_accuracy": 0.92, "recall_at_10": 0.87})
        loom.set_tags({"status": "candidate"})
        loom.log_artifact(tmp_path / "training_config.yaml")
        loom.log_artifacts(tmp_path / "reports", artifact_path="reports")
    assert loom.active_run() is None
    c = fluent.get_client()
    got = c.get_run(run.run_id)
    assert got.status == RunStatus.FINISHED and got.name == "exp-001"
    assert got.metrics["recall_at_10"] == 0.87 and got.params["batch_size"] == "32"
    assert got.tags["status"] == "candidate" and len(got.inputs) == 1
    assert {a.path for a in c.list_artifacts(run.run_id)} == {
        "training_config.yaml",
        "reports/eval.txt",
    }
    (found,) = c.search_runs(
        [c.experiment("rag-embedding-model").experiment_id],
        "metrics.recall_at_10 > 0.85 and params.learning_rate = '0.001'",
    ).items
    assert found.run_id == run.run_id


def test_exception_ends_the_run_failed_and_propagates(uri: str) -> None:
    with pytest.raises(ZeroDivisionError), loom.start_run() as run:
        loom.log_metric("x", 1.0)
        1 / 0  # noqa: B018
    assert _status(run.run_id) == RunStatus.FAILED
    assert fluent.get_client().get_run(run.run_id).metrics == {"x": 1.0}


def test_keyboard_interrupt_ends_the_run_killed(uri: str) -> None:
    with pytest.raises(KeyboardInterrupt), loom.start_run() as run:
        raise KeyboardInterrupt
    assert _status(run.run_id) == RunStatus.KILLED


def test_second_run_needs_nested(uri: str) -> None:
    with loom.start_run() as parent:
        with pytest.raises(ConflictError) as err:
            loom.start_run()
        assert "nested=True" in err.value.hint
        with loom.start_run(nested=True) as child:
            assert loom.active_run().run_id == child.run_id
        assert loom.active_run().run_id == parent.run_id
    tags = fluent.get_client().get_run(child.run_id).tags
    assert tags["mlflow.parentRunId"] == parent.run_id


def test_logging_without_a_run_starts_one_in_default(uri: str) -> None:
    loom.log_metric("x", 2.0)
    run = loom.active_run()
    assert run is not None
    loom.end_run()
    c = fluent.get_client()
    assert c.get_experiment(run.info.experiment_id).name == "Default"
    assert c.get_run(run.run_id).metrics == {"x": 2.0}


def test_resume_a_run_by_id(uri: str) -> None:
    with loom.start_run() as first:
        loom.log_param("a", 1)
    c = fluent.get_client()
    c.set_tag(first.run_id, "loom.pid", "999999999")  # as if a dead process had owned it
    with loom.start_run(run_id=first.run_id):
        loom.log_param("b", 2)
        assert _status(first.run_id) == RunStatus.RUNNING
        assert c.mark_stale() == []  # this process owns it now
    got = c.get_run(first.run_id)
    assert got.params == {"a": "1", "b": "2"} and got.status == RunStatus.FINISHED


def test_end_run_raises_a_flush_error(uri: str) -> None:
    run = loom.start_run()
    fluent.get_client().log_metric("d" * 32, "x", 1.0)  # a batch the store will refuse
    with pytest.raises(NotFoundError):
        loom.end_run()
    assert _status(run.run_id) == RunStatus.FINISHED


def test_tracking_uri_explicit_beats_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LOOM_TRACKING_URI", f"sqlite:///{tmp_path / 'env.db'}")
    assert loom.get_tracking_uri() == f"sqlite:///{tmp_path / 'env.db'}"
    loom.set_tracking_uri(f"sqlite:///{tmp_path / 'explicit.db'}")
    assert loom.get_tracking_uri() == f"sqlite:///{tmp_path / 'explicit.db'}"
    loom.set_tracking_uri(None)
    assert loom.get_tracking_uri().endswith("env.db")


def test_deleted_experiment_is_refused(uri: str) -> None:
    exp = loom.set_experiment("gone")
    fluent.get_client().delete_experiment(exp.experiment_id)
    with pytest.raises(ConflictError) as err:
        loom.set_experiment("gone")
    assert "loom exp restore gone" in err.value.hint
