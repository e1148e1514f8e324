"""One tracking workload in one process, run by the venv of the tool it measures.

``tracking_vs_mlflow.py`` starts this file with Loom's or MLflow's Python, so
each tool is imported alone in a process of its own. The last line printed is
a JSON object with ``seconds`` (the timed part only) and what the parent checks.

    python benchmarks/_tracking_worker.py loom log_metric '{"uri": "sqlite:///x.db", "n": 5000}'
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import uuid

FILTER = "metrics.m0 > 0.5 and params.p0 = '0.01'"
ORDER = "metrics.m1 DESC"
P0 = ["0.01", "0.1", "0.001"]


class Tool:
    """The calls each workload needs, spelled for one library."""

    def __init__(self, name: str, uri: str) -> None:
        self.name = name
        if name == "mlflow":
            import mlflow
            from mlflow.entities import Metric
            from mlflow.tracking import MlflowClient

            mlflow.set_tracking_uri(uri)
            self.mod, self.Metric, self.client = mlflow, Metric, MlflowClient(uri)
        else:
            import loom
            from loom.store.entities import Metric

            loom.set_tracking_uri(uri)
            self.mod, self.Metric, self.client = loom, Metric, loom.Client(uri)

    def experiment_id(self, name: str) -> str:
        return self.mod.set_experiment(name).experiment_id

    def metric(self, key: str, value: float, ts: int, step: int):
        return self.Metric(key=key, value=value, timestamp=ts, step=step)

    def flush(self) -> None:
        if self.name == "loom":
            self.client.flush()

    def history(self, run_id: str, key: str) -> list:
        return list(self.client.get_metric_history(run_id, key))

    def search(self, exp_id: str, max_results: int = 100) -> list:
        res = self.client.search_runs([exp_id], FILTER, order_by=[ORDER], max_results=max_results)
        return list(res.items) if self.name == "loom" else list(res)

    def metrics_of(self, run) -> dict:
        return run.metrics if self.name == "loom" else run.data.metrics

    def matches(self, run) -> bool:
        """Does a search result satisfy FILTER? (The search is checked, not trusted.)"""
        params = run.params if self.name == "loom" else run.data.params
        return params.get("p0") == "0.01" and self.metrics_of(run).get("m0", 0) > 0.5

    def run_id(self, active) -> str:
        return active.run_id if self.name == "loom" else active.info.run_id

    def create_bare_run(self, exp_id: str):
        if self.name == "loom":
            return self.client.create_run(exp_id, capture_env=False)
        return self.client.create_run(exp_id)

    def bare_run_id(self, run) -> str:
        return run.run_id if self.name == "loom" else run.info.run_id


def op_setup(t: Tool, a: dict) -> dict:
    return {"seconds": 0.0, "experiments": [t.experiment_id(n) for n in a["experiments"]]}


def op_log_metric(t: Tool, a: dict) -> dict:
    t.experiment_id("metric")
    active = t.mod.start_run()
    run_id = t.run_id(active)
    start = time.perf_counter()
    for i in range(a["n"]):
        t.mod.log_metric("loss", 1.0 / (i + 1), step=i)
    t.mod.end_run()  # flushes: every point is in the store when it returns
    return {"seconds": time.perf_counter() - start, "run_id": run_id}


def op_log_batch(t: Tool, a: dict) -> dict:
    run = t.create_bare_run(t.experiment_id("batch"))
    run_id = t.bare_run_id(run)
    keys, per_batch = 10, 1000
    ts = int(time.time() * 1000)
    start = time.perf_counter()
    for b in range(a["n"] // per_batch):
        batch = [
            t.metric(f"k{j % keys}", random.random(), ts, b * (per_batch // keys) + j // keys)
            for j in range(per_batch)
        ]
        t.client.log_batch(run_id, metrics=batch)
    t.flush()
    return {"seconds": time.perf_counter() - start, "run_id": run_id, "keys": keys}


def op_count_points(t: Tool, a: dict) -> dict:
    """A fresh client in a fresh process: how many points of the run are readable."""
    total = sum(len(t.history(a["run_id"], k)) for k in a["keys"])
    return {"seconds": 0.0, "points": total}


def op_create_runs(t: Tool, a: dict) -> dict:
    t.experiment_id("runs")
    rng = random.Random(a.get("seed", 3))
    start = time.perf_counter()
    for i in range(a["n"]):
        t.mod.start_run()
        params = {f"p{k}": str(rng.choice([1, 2, 4, 8]) * (k + 1)) for k in range(1, 20)}
        params["p0"] = P0[i % 3]
        t.mod.log_params(params)
        t.mod.log_metrics({f"m{k}": rng.random() for k in range(5)})
        t.mod.set_tags({f"t{k}": f"tag-{i % (k + 2)}" for k in range(3)})
        t.mod.end_run()
    return {"seconds": time.perf_counter() - start}


def _run_rows(i: int, rng: random.Random, exp_id: int, ts: int) -> dict[str, list[dict]]:
    """The rows one finished run has in Loom's tables: the run, 20 params, 3 tags, 5 metrics."""
    run_id = uuid.uuid4().hex
    params = {f"p{k}": str(rng.choice([1, 2, 4, 8]) * (k + 1)) for k in range(1, 20)}
    params["p0"] = P0[i % 3]
    metrics = [
        {
            "run_id": run_id,
            "key": f"m{k}",
            "value": rng.random(),
            "is_nan": False,
            "timestamp": ts + i,
            "step": 0,
        }
        for k in range(5)
    ]
    return {
        "runs": [
            {
                "run_id": run_id,
                "experiment_id": exp_id,
                "name": f"bulk-{i}",
                "status": "FINISHED",
                "start_time": ts + i,
                "end_time": ts + i + 1,
                "user": "bench",
                "lifecycle_stage": "active",
            }
        ],
        "params": [{"run_id": run_id, "key": k, "value": v} for k, v in params.items()],
        "tags": [
            {"run_id": run_id, "key": f"t{k}", "value": f"tag-{i % (k + 2)}"} for k in range(3)
        ],
        "metrics": metrics,
        "latest_metrics": metrics,
    }


def op_bulk_insert(t: Tool, a: dict) -> dict:
    """Loom only: many runs inserted in bulk into Loom's own tables (``loom.store.schema``).

    Loom's migrations create the store (through the client) first; the rows are
    exactly those a run logged through the client has, with one executemany
    per table and chunk instead of several transactions a run.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from loom.store.schema import Base

    exp_id = int(t.experiment_id(a.get("experiment", "big")))
    t.client.close()
    rng = random.Random(a.get("seed", 5))
    tables = Base.metadata.tables
    engine = create_engine(a["uri"], poolclass=NullPool)
    ts = int(time.time() * 1000) - a["n"] - 1000
    start = time.perf_counter()
    for first in range(0, a["n"], 10_000):
        rows: dict[str, list[dict]] = {}
        for i in range(first, min(a["n"], first + 10_000)):
            for name, part in _run_rows(i, rng, exp_id, ts).items():
                rows.setdefault(name, []).extend(part)
        with engine.begin() as conn:
            for name, part in rows.items():
                conn.execute(tables[name].insert(), part)
    engine.dispose()
    return {"seconds": time.perf_counter() - start}


def op_search(t: Tool, a: dict) -> dict:
    exp_id = t.experiment_id(a.get("experiment", "runs"))
    first = time.perf_counter()
    runs = t.search(exp_id)
    first = time.perf_counter() - first
    times = []
    for _ in range(a.get("reps", 5)):
        start = time.perf_counter()
        runs = t.search(exp_id)
        times.append(time.perf_counter() - start)
    m1 = [round(t.metrics_of(r)["m1"], 12) for r in runs]
    return {
        "seconds": statistics.median(times),
        "first": first,
        "count": len(runs),
        "m1": m1,
        "valid": all(t.matches(r) for r in runs) and m1 == sorted(m1, reverse=True),
    }


OPS = {
    "setup": op_setup,
    "log_metric": op_log_metric,
    "log_batch": op_log_batch,
    "count_points": op_count_points,
    "create_runs": op_create_runs,
    "bulk_insert": op_bulk_insert,
    "search": op_search,
}


def main() -> None:
    tool_name, op, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    tool = Tool(tool_name, args["uri"])
    result = OPS[op](tool, args)
    sys.stdout.flush()
    print("\n" + json.dumps(result))


if __name__ == "__main__":
    main()
