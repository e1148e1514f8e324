from __future__ import annotations

import math
import random
import time

import pytest

from loom.errors import ValidationError
from loom.store import Metric, Store


def _log(store: Store, run_id: str, values: list[float], key: str = "loss") -> None:
    for start in range(0, len(values), 100_000):
        part = values[start : start + 100_000]
        store.log_batch(
            run_id,
            [Metric(key, v, 1_700_000_000_000 + start + i, start + i) for i, v in enumerate(part)],
        )


def test_full_history_in_step_order(store: Store) -> None:
    run_id = store.create_run("0").run_id
    store.log_batch(
        run_id, [Metric("m", 3.0, 30, 3), Metric("m", 1.0, 10, 1), Metric("m", 2.0, 20, 2)]
    )
    assert [p.step for p in store.get_metric_history(run_id, "m")] == [1, 2, 3]
    assert store.get_metric_history(run_id, "other") == []


def test_bucketing_keeps_spikes_first_last_and_nan(store: Store) -> None:
    run_id = store.create_run("0").run_id
    rng = random.Random(7)
    values = [rng.uniform(0, 1) for _ in range(5000)]
    values[1234], values[4321], values[2500] = 1000.0, -1000.0, math.nan
    _log(store, run_id, values)
    points = store.get_metric_history(run_id, "loss", max_points=100)
    assert len(points) <= 100
    assert points[0].step == 0 and points[-1].step == 4999
    by_step = {p.step: p.value for p in points}
    assert by_step[1234] == 1000.0 and by_step[4321] == -1000.0
    assert math.isnan(by_step[2500])
    assert [p.step for p in points] == sorted(p.step for p in points)
    assert len(store.get_metric_history(run_id, "loss", max_points=10_000)) == 5000


def test_max_points_must_leave_room(store: Store) -> None:
    run_id = store.create_run("0").run_id
    with pytest.raises(ValidationError, match="at least 3"):
        store.get_metric_history(run_id, "loss", max_points=2)


@pytest.mark.slow
def test_a_million_points_keep_every_spike(sqlite_store: Store) -> None:
    run_id = sqlite_store.create_run("0").run_id
    rng = random.Random(1)
    values = [rng.random() for _ in range(1_000_000)]
    spikes = {rng.randrange(1, 999_999): rng.choice((-1, 1)) * (10 + i) for i in range(20)}
    for step, v in spikes.items():
        values[step] = float(v)
    _log(sqlite_store, run_id, values)
    t0 = time.perf_counter()
    points = sqlite_store.get_metric_history(run_id, "loss", max_points=1000)
    elapsed = time.perf_counter() - t0
    got = {p.step: p.value for p in points}
    assert len(points) <= 1000
    assert all(got.get(step) == v for step, v in spikes.items()), "a spike was lost"
    assert 0 in got and 999_999 in got
    assert elapsed < 5, f"bucketing 1M points took {elapsed:.2f}s"
