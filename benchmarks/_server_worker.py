"""The MLflow client's side of ``server_vs_mlflow.py``: one workload in one process.

It runs with the Python of MLflow's venv and talks HTTP to whichever server the
parent names (Loom's or MLflow's), with the unmodified ``mlflow`` client. The
last line printed is a JSON object with the timings and what the parent checks.

    python benchmarks/_server_worker.py log_metric '{"url": "http://127.0.0.1:5000", "n": 500}'
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import threading
import time
import uuid

FILTER = "metrics.m0 > 0.5 and params.p0 = '0.01'"  # as _tracking_worker.py
ORDER = "metrics.m1 DESC"
P0 = ["0.01", "0.1", "0.001"]


def _client(url: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(url)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def op_log_metric(a: dict) -> dict:
    """``mlflow.log_metric`` one call at a time, each timed, as a training loop calls it."""
    import mlflow

    mlflow.set_tracking_uri(a["url"])
    mlflow.set_experiment("latency-" + uuid.uuid4().hex[:6])
    times = []
    with mlflow.start_run() as run:
        for i in range(a["warm"] + a["n"]):
            start = time.perf_counter()
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
            if i >= a["warm"]:
                times.append(time.perf_counter() - start)
    points = len(_client(a["url"]).get_metric_history(run.info.run_id, "loss"))
    return {
        "seconds": statistics.median(times),
        "p95": _percentile(times, 0.95),
        "points": points,
        "expected": a["warm"] + a["n"],
    }


def op_experiment(a: dict) -> dict:
    return {"seconds": 0.0, "experiment_id": _client(a["url"]).create_experiment(a["name"])}


def _log(client, run_id: str, points: int, batch: int) -> None:
    """``points`` points: one ``log_metric`` request each, or ``log_batch`` of ``batch``."""
    if not batch:
        for step in range(points):
            client.log_metric(run_id, "loss", 1.0 / (step + 1), step=step)
        return
    from mlflow.entities import Metric

    ts = int(time.time() * 1000)
    for first in range(0, points, batch):
        steps = range(first, min(points, first + batch))
        client.log_batch(run_id, metrics=[Metric("loss", 1.0 / (s + 1), ts, s) for s in steps])


def _one_client(url: str, a: dict, go: threading.Event, out: dict) -> None:
    try:
        client = _client(url)  # each simulated user its own client (and connection pool)
        run_id = client.create_run(a["experiment_id"]).info.run_id
        out["runs"].append(run_id)
    except Exception as exc:  # reported to the parent, which fails the row
        out["errors"].append(repr(exc)[:300])
        return
    go.wait()
    try:
        _log(client, run_id, a["points"], a.get("batch", 0))
    except Exception as exc:
        out["errors"].append(repr(exc)[:300])


def op_throughput(a: dict) -> dict:
    """``clients`` threads, each logging ``points`` points (see :func:`_log`).

    Prints ``ready`` once every thread has its run, and starts logging when the
    parent writes a line: all client processes begin at the same moment.
    """
    out: dict[str, list[str]] = {"runs": [], "errors": []}
    go = threading.Event()
    threads = [
        threading.Thread(target=_one_client, args=(a["url"], a, go, out))
        for _ in range(a["clients"])
    ]
    for t in threads:
        t.start()
    while len(out["runs"]) + len(out["errors"]) < a["clients"]:
        time.sleep(0.01)
    print("ready", flush=True)
    sys.stdin.readline()
    began = time.time()
    go.set()
    for t in threads:
        t.join()
    return {"seconds": 0.0, **out, "began": began, "ended": time.time()}


def op_count(a: dict) -> dict:
    client = _client(a["url"])
    counts = [len(client.get_metric_history(r, "loss")) for r in a["runs"]]
    return {
        "seconds": 0.0,
        "points": sum(counts),
        "short_runs": sum(n != a["each"] for n in counts),
    }


def _mlflow_rows(i: int, rng: random.Random, exp_id: int, ts: int) -> dict[str, list[dict]]:
    """A finished run's rows in MLflow's tables: 20 params, 3 tags, 5 metrics (+ latest)."""
    run_id = uuid.uuid4().hex
    params = {f"p{k}": str(rng.choice([1, 2, 4, 8]) * (k + 1)) for k in range(1, 20)}
    params["p0"] = P0[i % 3]
    metrics = [
        {
            "key": f"m{k}",
            "value": rng.random(),
            "timestamp": ts + i,
            "step": 0,
            "is_nan": False,
            "run_uuid": run_id,
        }
        for k in range(5)
    ]
    run = {
        "run_uuid": run_id,
        "name": f"bulk-{i}",
        "source_type": "LOCAL",
        "source_name": "",
        "entry_point_name": "",
        "user_id": "bench",
        "status": "FINISHED",
        "start_time": ts + i,
        "end_time": ts + i + 1,
        "source_version": "",
        "lifecycle_stage": "active",
        "artifact_uri": f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts",
        "experiment_id": exp_id,
    }
    tags = [{"key": f"t{k}", "value": f"tag-{i % (k + 2)}", "run_uuid": run_id} for k in range(3)]
    tags.append({"key": "mlflow.runName", "value": f"bulk-{i}", "run_uuid": run_id})
    return {
        "runs": [run],
        "params": [{"key": k, "value": v, "run_uuid": run_id} for k, v in params.items()],
        "tags": tags,
        "metrics": metrics,
        "latest_metrics": metrics,
    }


def op_mlflow_bulk_insert(a: dict) -> dict:
    """MLflow's tables filled in bulk, the rows MLflow's own store writes for such runs.

    Through the server 10,000 runs take minutes; one executemany per table and chunk
    gives the same rows (``mlflow.store.tracking.dbmodels.models``' tables).
    """
    from mlflow.store.tracking.dbmodels.models import Base
    from sqlalchemy import create_engine

    tables = Base.metadata.tables
    engine = create_engine(a["db"])
    rng = random.Random(5)
    ts = int(time.time() * 1000) - a["n"] - 1000
    start = time.perf_counter()
    for first in range(0, a["n"], 5_000):
        rows: dict[str, list[dict]] = {}
        for i in range(first, min(a["n"], first + 5_000)):
            for name, part in _mlflow_rows(i, rng, int(a["experiment_id"]), ts).items():
                rows.setdefault(name, []).extend(part)
        with engine.begin() as conn:
            for name in ("runs", "params", "tags", "metrics", "latest_metrics"):
                conn.execute(tables[name].insert(), rows[name])
    engine.dispose()
    return {"seconds": time.perf_counter() - start}


def op_search(a: dict) -> dict:
    """``search_runs``: 100 runs, filtered and ordered, p50 of ``reps`` after one warm-up."""
    client = _client(a["url"])
    exp_id = client.get_experiment_by_name(a["experiment_name"]).experiment_id

    def once() -> list:
        return list(client.search_runs([exp_id], FILTER, order_by=[ORDER], max_results=100))

    runs = once()
    times = []
    for _ in range(a["reps"]):
        start = time.perf_counter()
        runs = once()
        times.append(time.perf_counter() - start)
    m1 = [r.data.metrics["m1"] for r in runs]
    valid = all(r.data.params["p0"] == "0.01" and r.data.metrics["m0"] > 0.5 for r in runs)
    return {
        "seconds": statistics.median(times),
        "count": len(runs),
        "valid": valid and m1 == sorted(m1, reverse=True),
        "m1": [round(x, 12) for x in m1],
    }


OPS = {
    "log_metric": op_log_metric,
    "experiment": op_experiment,
    "throughput": op_throughput,
    "count": op_count,
    "mlflow_bulk_insert": op_mlflow_bulk_insert,
    "search": op_search,
}


def main() -> None:
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # a failure shows, not hides
    op, args = sys.argv[1], json.loads(sys.argv[2])
    result = OPS[op](args)
    sys.stdout.flush()
    print("\n" + json.dumps(result))


if __name__ == "__main__":
    main()
