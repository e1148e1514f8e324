"""The issue's search at 2,000 runs: right answer, the planned index walk, and quick.

Wall-clock bounds here are loose (CI machines are shared); the plan checks are
what would catch a regression to "find and sort every match".
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loom.store import Metric, Store, open_store
from loom.store.search.parser import parse_filter, parse_order_by
from loom.store.search.plan import segments
from loom.store.search.sql import compile_filter

pytestmark = pytest.mark.slow

N = 2000
QUERY = "metrics.m0 > 0.5 and params.p0 = '0.01'"
ORDER = ["metrics.m1 DESC"]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, str, float]]:
    store = open_store(f"sqlite:///{Path(tmp_path_factory.mktemp('speed')) / 'loom.db'}")
    exp_id = store.create_experiment("speed").experiment_id
    rng = random.Random(5)
    t0 = time.perf_counter()
    for i in range(N):
        run = store.create_run(exp_id, name=f"r{i}", start_time=1_700_000_000_000 + i)
        params = {f"p{j}": rng.choice(("0.01", "0.1", "1e-2")) for j in range(20)}
        m1 = rng.random() if i % 50 else float("nan")
        metrics = [Metric("m0", rng.random(), 0, 0), Metric("m1", m1, 0, 0)]
        metrics += [Metric(f"m{j}", rng.random(), 0, 0) for j in range(2, 5)]
        store.log_batch(run.run_id, metrics, params, {f"t{j}": str(j) for j in range(3)})
    yield store, exp_id, time.perf_counter() - t0
    store.close()


def _brute_force(store: Store, exp_id: str) -> list[str]:
    """The expected order, computed in Python from every run."""
    runs = store.search_runs([exp_id], max_results=N).items
    hits = [r for r in runs if r.metrics["m0"] > 0.5 and r.params["p0"] == "0.01"]

    def key(r):
        v = r.metrics["m1"]
        return (1, 0.0, -r.start_time) if v != v else (0, -v, -r.start_time)

    return [r.name for r in sorted(hits, key=key)]


def test_2000_runs_are_created_quickly(big) -> None:
    _, _, took = big
    assert took < 60, f"creating {N} runs took {took:.1f}s"


def test_the_search_is_right_on_every_page_and_quick(big) -> None:
    store, exp_id, _ = big
    expected = _brute_force(store, exp_id)
    t0 = time.perf_counter()
    first = store.search_runs([exp_id], QUERY, order_by=ORDER, max_results=100)
    elapsed = time.perf_counter() - t0
    names, page = [r.name for r in first.items], first
    while page.next_page_token:
        page = store.search_runs(
            [exp_id], QUERY, order_by=ORDER, max_results=100, page_token=page.next_page_token
        )
        names += [r.name for r in page.items]
    assert names == expected
    assert elapsed < 0.5, f"search took {elapsed * 1000:.0f} ms"


def _plan(store: Store, exp_id: str, filter_string: str, walk: bool) -> str:
    from loom.store.schema import RunRow

    where = [RunRow.experiment_id.in_([int(exp_id)])]
    where.append(compile_filter(parse_filter(filter_string), "sqlite", probe=walk))
    q = segments(where, [parse_order_by(ORDER[0])], "sqlite", walk=walk)[0].limit(100)
    sql = str(q.compile(dialect=store._engine.dialect, compile_kwargs={"literal_binds": True}))
    with store._read() as conn:
        return "\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


def test_broad_filter_walks_the_sort_index(big) -> None:
    store, exp_id, _ = big
    plan = _plan(store, exp_id, QUERY, walk=True)
    assert plan.splitlines()[0].startswith("SEARCH o0 USING INDEX ix_latest_metrics_key_value")
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan  # only the tie-break part is sorted


def test_narrow_filter_starts_from_its_matches(big) -> None:
    store, exp_id, _ = big
    plan = _plan(store, exp_id, "params.p0 = 'nope'", walk=False)
    assert "ix_params_key_value" in plan
    t0 = time.perf_counter()
    assert store.search_runs([exp_id], "params.p0 = 'nope'", order_by=ORDER).items == []
    assert time.perf_counter() - t0 < 0.5
