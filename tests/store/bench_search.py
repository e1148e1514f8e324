"""Measure run creation and the issue's search on a SQLite store (numbers in docs/search.md).

    python tests/store/bench_search.py [N_RUNS]   # default 100000

Runs up to 2,000 are made through the public API (create_run + log_batch, as
the tracking layer does); beyond that the rows are bulk-inserted, which is
only a faster way to reach the same table contents.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from loom.store import Metric, Store, open_store

QUERY = "metrics.m0 > 0.5 and params.p0 = '0.01'"
ORDER = ["metrics.m1 DESC"]
LRS = ("0.01", "0.001", "0.1", "1e-2")


def make_runs_api(store: Store, exp_id: str, n: int, rng: random.Random) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        run = store.create_run(exp_id, name=f"run-{i}", start_time=1_700_000_000_000 + i)
        params = {f"p{j}": rng.choice(LRS) if j == 0 else str(rng.random()) for j in range(20)}
        metrics = [Metric(f"m{j}", rng.random(), 1_700_000_000_000, 0) for j in range(5)]
        tags = {f"t{j}": f"v{rng.randrange(10)}" for j in range(3)}
        store.log_batch(run.run_id, metrics, params, tags)
    return time.perf_counter() - t0


def make_runs_bulk(store: Store, exp_id: str, n: int, rng: random.Random) -> None:
    """Insert rows directly, 1,000 runs per transaction (a fixture shortcut, not an API)."""
    for start in range(0, n, 1000):
        runs, params, metrics, latest, tags = [], [], [], [], []
        for i in range(start, min(n, start + 1000)):
            rid = uuid.uuid4().hex
            runs.append((rid, int(exp_id), f"run-{i}", "FINISHED", 1_700_000_000_000 + i))
            for j in range(20):
                params.append((rid, f"p{j}", rng.choice(LRS) if j == 0 else str(rng.random())))
            for j in range(5):
                row = (rid, f"m{j}", rng.random(), False, 1_700_000_000_000, 0)
                metrics.append(row)
                latest.append(row)
            for j in range(3):
                tags.append((rid, f"t{j}", f"v{rng.randrange(10)}"))
        with store._write() as conn:
            ex = conn.exec_driver_sql
            ex(
                "INSERT INTO runs (run_id, experiment_id, name, status, start_time, "
                "lifecycle_stage) VALUES (?, ?, ?, ?, ?, 'active')",
                runs,
            )
            ex("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)", params)
            ex("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)", tags)
            cols = "run_id, key, value, is_nan, timestamp, step"
            ex(f"INSERT INTO metrics ({cols}) VALUES (?, ?, ?, ?, ?, ?)", metrics)
            ex(f"INSERT INTO latest_metrics ({cols}) VALUES (?, ?, ?, ?, ?, ?)", latest)


def time_search(
    store: Store, exp_id: str, repeat: int = 5, query: str = QUERY, order: list | None = ORDER
) -> tuple[float, int]:
    """Best of ``repeat`` wall times (seconds) of a search (the issue's by default), hits."""
    best, hits = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        page = store.search_runs([exp_id], query, order_by=order, max_results=100)
        best = min(best, time.perf_counter() - t0)
        hits = len(page.items)
    return best, hits


def main(n: int) -> None:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'loom.db'}")
        exp_id = store.create_experiment("bench").experiment_id
        api_runs = min(n, 2000)
        took = make_runs_api(store, exp_id, api_runs, rng)
        print(f"created {api_runs} runs (20 params, 5 metrics, 3 tags) via API: {took:.2f}s")
        if n > api_runs:
            make_runs_bulk(store, exp_id, n - api_runs, rng)
        with store._read() as conn:
            conn.exec_driver_sql("ANALYZE")
        best, hits = time_search(store, exp_id)
        print(f"search at {n} runs: {best * 1000:.1f} ms for {hits} results")
        for query, order in (
            (QUERY, None),
            ("params.p0 = 'nope'", ORDER),
            (QUERY, ["params.p3 ASC"]),
        ):
            best, hits = time_search(store, exp_id, query=query, order=order)
            print(f"  {query!r} order_by={order}: {best * 1000:.1f} ms, {hits} results")
        store.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
