"""Ending a run with its last points in one transaction; a run created with its artifacts."""

from __future__ import annotations

import math
import uuid

import pytest

from loom.errors import ConflictError, NotFoundError, ValidationError
from loom.store import Artifact, Metric, RunStatus, Store


def test_end_run_writes_points_tags_and_status_together(store: Store) -> None:
    run = store.create_run("0")
    store.end_run(
        run.run_id,
        RunStatus.FINISHED,
        1234,
        [Metric("loss", 0.5, 1, 0), Metric("loss", 0.25, 2, 1)],
        {"stage": "done"},
    )
    got = store.get_run(run.run_id)
    assert (got.status, got.end_time) == (RunStatus.FINISHED, 1234)
    assert got.metrics == {"loss": 0.25} and got.tags == {"stage": "done"}
    assert [m.value for m in store.get_metric_history(run.run_id, "loss")] == [0.5, 0.25]


def test_end_run_is_all_or_nothing(store: Store) -> None:
    run = store.create_run("0")
    with pytest.raises(ValidationError):
        store.end_run(run.run_id, RunStatus.FINISHED, 5, [Metric("a..b", 1.0, 1, 0)])
    with pytest.raises(ValidationError, match="Invalid run status 'DONE'"):
        store.end_run(run.run_id, "DONE", 5, [Metric("ok", 1.0, 1, 0)])
    got = store.get_run(run.run_id)
    assert (got.status, got.end_time, got.metrics) == (RunStatus.RUNNING, None, {})


def test_end_run_of_a_deleted_run(store: Store) -> None:
    run = store.create_run("0")
    store.delete_run(run.run_id)
    with pytest.raises(ConflictError, match="deleted"):
        store.end_run(run.run_id, RunStatus.FAILED, 7, [Metric("x", math.nan, 1, 0)])
    assert store.get_run(run.run_id).status == RunStatus.RUNNING
    store.end_run(run.run_id, RunStatus.KILLED, 7)  # no points: only the status, as update_run
    assert store.get_run(run.run_id).status == RunStatus.KILLED


def test_end_run_of_a_missing_run(store: Store) -> None:
    for points in ([], [Metric("x", 1.0, 1, 0)]):
        with pytest.raises(NotFoundError, match="No run"):
            store.end_run(uuid.uuid4().hex, RunStatus.FINISHED, 1, points)


def test_create_run_with_artifacts(store: Store) -> None:
    arts = [Artifact("loom/requirements.txt", "a" * 64, 10), Artifact("loom/git.diff", "b" * 64, 3)]
    run = store.create_run("0", artifacts=arts)
    assert store.list_artifacts(run.run_id) == sorted(arts, key=lambda a: a.path)
    before = store.search_runs(["0"]).items
    with pytest.raises(ValidationError):
        store.create_run("0", artifacts=[Artifact("../escape", "c" * 64, 1)])
    assert store.search_runs(["0"]).items == before  # no run without its artifacts


def test_a_page_loads_each_runs_inputs_in_logged_order(store: Store) -> None:
    from loom.store import RunInput

    runs = [store.create_run("0", start_time=i) for i in range(3)]
    for i, run in enumerate(runs):
        store.log_inputs(run.run_id, [RunInput(f"z{i}", "a" * 64, 1, name="first")])
    for i, run in enumerate(runs):
        store.log_inputs(run.run_id, [RunInput(f"a{i}", "b" * 64, None, "directory", "c0ffee")])
    page = store.search_runs(["0"], order_by=["attributes.start_time ASC"]).items
    assert [[x.path for x in r.inputs] for r in page] == [["z0", "a0"], ["z1", "a1"], ["z2", "a2"]]
    assert page[0].inputs[1] == RunInput("a0", "b" * 64, None, "directory", "c0ffee")
