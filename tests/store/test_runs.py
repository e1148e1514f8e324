from __future__ import annotations

import re
import uuid

import pytest

from loom.errors import AlreadyExistsError, ConflictError, NotFoundError, ValidationError
from loom.store import Lifecycle, Metric, RunInput, RunStatus, Store


def test_create_and_get_run(store: Store) -> None:
    exp = store.create_experiment("e")
    run = store.create_run(
        exp.experiment_id, name="exp-001", start_time=1000, user="ana", tags={"k": "v"}
    )
    assert re.fullmatch(r"[0-9a-f]{32}", run.run_id)
    got = store.get_run(run.run_id)
    assert got == run
    assert (got.status, got.start_time, got.user, got.tags) == (
        RunStatus.RUNNING,
        1000,
        "ana",
        {"k": "v"},
    )


def test_generated_name_and_explicit_id(store: Store) -> None:
    rid = uuid.uuid4().hex
    run = store.create_run("0", run_id=rid)
    assert run.run_id == rid
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", run.name)
    with pytest.raises(AlreadyExistsError):
        store.create_run("0", run_id=rid)
    with pytest.raises(NotFoundError):
        store.create_run("0", run_id="not-hex")


def test_update_run(store: Store) -> None:
    run = store.create_run("0", name="a")
    store.update_run(run.run_id, status=RunStatus.FINISHED, end_time=5, name="b")
    got = store.get_run(run.run_id)
    assert (got.status, got.end_time, got.name) == (RunStatus.FINISHED, 5, "b")
    with pytest.raises(ValidationError, match="Invalid run status 'DONE'"):
        store.update_run(run.run_id, status="DONE")


def test_get_run_fills_everything(store: Store) -> None:
    run = store.create_run("0")
    store.log_batch(
        run.run_id,
        [Metric("loss", 0.9, 1, 0), Metric("loss", 0.1, 2, 1)],
        params={"lr": "0.001"},
        tags={"stage": "dev"},
    )
    store.log_inputs(run.run_id, [RunInput("data/train", "a" * 64, 10, "directory", "c0ffee")])
    got = store.get_run(run.run_id)
    assert got.params == {"lr": "0.001"}
    assert got.metrics == {"loss": 0.1}
    assert got.tags == {"stage": "dev"}
    assert got.inputs == (RunInput("data/train", "a" * 64, 10, "directory", "c0ffee"),)


def test_delete_restore_run(store: Store) -> None:
    run = store.create_run("0")
    store.delete_run(run.run_id)
    assert store.get_run(run.run_id).lifecycle_stage == Lifecycle.DELETED
    with pytest.raises(ConflictError, match="deleted") as info:
        store.log_batch(run.run_id, params={"a": "1"})
    assert info.value.hint == f"loom runs restore {run.run_id}"
    store.restore_run(run.run_id)
    store.log_batch(run.run_id, params={"a": "1"})
    assert store.get_run(run.run_id).params == {"a": "1"}


def test_missing_run(store: Store) -> None:
    with pytest.raises(NotFoundError, match="No run"):
        store.get_run(uuid.uuid4().hex)
    with pytest.raises(NotFoundError):
        store.update_run("0" * 32, status=RunStatus.FAILED)
    with pytest.raises(NotFoundError):
        store.create_run("424242")


def test_list_runs_by_status(store: Store) -> None:
    a = store.create_run("0", start_time=1)
    b = store.create_run("0", start_time=2)
    done = store.create_run("0", start_time=3)
    store.update_run(done.run_id, status=RunStatus.FINISHED)
    gone = store.create_run("0", start_time=4)
    store.delete_run(gone.run_id)
    assert [r.run_id for r in store.list_runs_by_status(RunStatus.RUNNING)] == [
        a.run_id,
        b.run_id,
    ]
    assert [r.run_id for r in store.list_runs_by_status(RunStatus.FINISHED)] == [done.run_id]
