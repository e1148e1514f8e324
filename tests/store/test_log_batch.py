from __future__ import annotations

import math
import time

import pytest

from loom.errors import ConflictError, ValidationError
from loom.store import Artifact, Metric, Store


@pytest.fixture
def run_id(store: Store) -> str:
    return store.create_run("0").run_id


def test_nan_and_inf_round_trip(store: Store, run_id: str) -> None:
    values = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, 5e-324]
    store.log_batch(run_id, [Metric(f"m{i}", v, 1, 0) for i, v in enumerate(values)])
    got = store.get_run(run_id).metrics
    for i, v in enumerate(values):
        assert got[f"m{i}"] == v or (math.isnan(v) and math.isnan(got[f"m{i}"]))
    history = store.get_metric_history(run_id, "m0") + store.get_metric_history(run_id, "m1")
    assert math.isnan(history[0].value) and history[1].value == math.inf


def test_latest_is_highest_step_then_timestamp_then_value(store: Store, run_id: str) -> None:
    store.log_batch(run_id, [Metric("a", 5.0, 100, 3), Metric("a", 9.0, 999, 2)])
    assert store.get_run(run_id).metrics["a"] == 5.0  # higher step wins over later time
    store.log_batch(run_id, [Metric("a", 1.0, 50, 3)])
    assert store.get_run(run_id).metrics["a"] == 5.0  # same step, older timestamp: kept
    store.log_batch(run_id, [Metric("a", 2.0, 100, 3), Metric("a", 7.0, 100, 3)])
    assert store.get_run(run_id).metrics["a"] == 7.0  # full tie: the largest value
    store.log_batch(run_id, [Metric("a", math.nan, 100, 3)])
    assert store.get_run(run_id).metrics["a"] == 7.0  # NaN loses a full tie
    store.log_batch(run_id, [Metric("a", math.nan, 100, 4)])
    assert math.isnan(store.get_run(run_id).metrics["a"])
    assert len(store.get_metric_history(run_id, "a")) == 7


def test_params_are_write_once(store: Store, run_id: str) -> None:
    store.log_batch(run_id, params={"lr": "0.01", "epochs": "10"})
    store.log_batch(run_id, params={"lr": "0.01"})  # same value again is fine
    with pytest.raises(ConflictError) as info:
        store.log_batch(run_id, params={"lr": "1e-2"})
    err = info.value
    assert "'lr'" in err.message and "'0.01'" in err.message and "'1e-2'" in err.message
    assert (err.fields["old_value"], err.fields["new_value"]) == ("0.01", "1e-2")


def test_a_failed_batch_writes_nothing(store: Store, run_id: str) -> None:
    store.log_batch(run_id, params={"lr": "0.01"})
    with pytest.raises(ConflictError):
        store.log_batch(
            run_id, [Metric("loss", 1.0, 1, 0)], params={"new": "x", "lr": "0.1"}, tags={"t": "1"}
        )
    run = store.get_run(run_id)
    assert (run.params, run.metrics, run.tags) == ({"lr": "0.01"}, {}, {})
    assert store.get_metric_history(run_id, "loss") == []


def test_tags_are_overwritten(store: Store, run_id: str) -> None:
    store.log_batch(run_id, tags={"s": "a"})
    store.log_batch(run_id, tags={"s": "b"})
    assert store.get_run(run_id).tags == {"s": "b"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"params": {"k" * 251: "v"}}, "251 characters, the limit is 250"),
        ({"params": {"p": "v" * 6001}}, "6001 characters, the limit is 6000"),
        ({"tags": {"t": "v" * 8001}}, "8001 characters, the limit is 8000"),
        ({"params": {"a/../b": "v"}}, "contains '..'"),
        ({"params": {"a\x00": "v"}}, "NUL"),
        ({"tags": {"a\nb": "v"}}, "control character"),
        ({"metrics": [Metric("m", "1.0", 0, 0)]}, "'1.0' is not a number"),  # type: ignore[arg-type]
        ({"metrics": [Metric("m", 1.0, 0, 1.5)]}, "step 1.5 is not an integer"),  # type: ignore[arg-type]
        ({"params": {"p": 3}}, "must be a string"),
    ],
)
def test_validation_names_key_and_limit(store: Store, run_id: str, kwargs, match) -> None:
    with pytest.raises(ValidationError, match=match):
        store.log_batch(run_id, **kwargs)
    run = store.get_run(run_id)
    assert (run.params, run.metrics, run.tags) == ({}, {}, {})


def test_limits_are_inclusive(store: Store, run_id: str) -> None:
    store.log_batch(run_id, params={"k" * 250: "v" * 6000}, tags={"t": "v" * 8000})
    run = store.get_run(run_id)
    assert run.params["k" * 250] == "v" * 6000 and len(run.tags["t"]) == 8000


def test_artifacts_replace_and_list_by_folder(store: Store, run_id: str) -> None:
    h1, h2 = "a" * 64, "b" * 64
    store.log_artifacts(
        run_id,
        [
            Artifact("reports/a.html", h1, 1),
            Artifact("reports2/b", h1, 2),
            Artifact("m.pkl", h1, 3),
        ],
    )
    store.log_artifacts(run_id, [Artifact("reports/a.html", h2, 4)])
    assert store.list_artifacts(run_id, "reports/") == [Artifact("reports/a.html", h2, 4)]
    assert [a.path for a in store.list_artifacts(run_id)] == [
        "m.pkl",
        "reports/a.html",
        "reports2/b",
    ]
    for bad in ("../x", "/abs", "a//b", "a\\b", "./a"):
        with pytest.raises(ValidationError):
            store.log_artifacts(run_id, [Artifact(bad, h1, 1)])


def test_100k_points_in_batches_of_1000(sqlite_store: Store) -> None:
    run_id = sqlite_store.create_run("0").run_id
    t0 = time.perf_counter()
    for b in range(100):
        batch = [
            Metric("loss", float(i), 1_700_000_000_000 + i, i)
            for i in range(b * 1000, (b + 1) * 1000)
        ]
        sqlite_store.log_batch(run_id, batch)
    elapsed = time.perf_counter() - t0
    assert len(sqlite_store.get_metric_history(run_id, "loss")) == 100_000
    assert sqlite_store.get_run(run_id).metrics["loss"] == 99_999.0
    assert elapsed < 10, f"100k points took {elapsed:.2f}s (target ~1s)"
