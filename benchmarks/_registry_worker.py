"""One registry workload in a fresh process, for Loom or MLflow; prints a JSON result.

Run by ``registry_vs_mlflow.py`` with each tool's own venv python:

    python _registry_worker.py loom cycle WORKDIR N      # log + register + load, N times
    python _registry_worker.py mlflow prepare WORKDIR    # one registered model to serve
    python _registry_worker.py loom history WORKDIR N    # N alias events, then "at" queries
    python _registry_worker.py loom cold WORKDIR         # a fresh process loads and scores

Everything a tool needs is imported and the models are trained before the clock
starts; each cycle logs a different model (so no tool can skip work as a repeat).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path


def models(n: int):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, [LogisticRegression(C=0.5 + i).fit(X, y) for i in range(n)]


def loom_cycle(work: Path, n: int) -> dict:
    import loom

    X, fitted = models(n)
    loom.set_tracking_uri(f"sqlite:///{work / 'loom.db'}")
    loom.set_experiment("bench")
    times = []
    for i, model in enumerate(fitted):
        t0 = time.perf_counter()
        with loom.start_run() as run:
            loom.log_model(model, "model", input_example=X[:5])
        mv = loom.register_model(f"runs:/{run.run_id}/model", "clf")
        loaded = loom.load_model(f"models:/clf/{mv.version}")
        loaded.predict(X[:3])
        times.append(time.perf_counter() - t0)
        assert mv.version == i + 1
    return {"seconds": statistics.median(times), "all": times}


def mlflow_cycle(work: Path, n: int) -> dict:
    import mlflow
    import mlflow.pyfunc
    import mlflow.sklearn

    X, fitted = models(n)
    mlflow.set_tracking_uri(f"sqlite:///{work / 'mlflow.db'}")
    mlflow.set_experiment("bench")
    times = []
    for i, model in enumerate(fitted):
        t0 = time.perf_counter()
        with mlflow.start_run() as run:
            mlflow.sklearn.log_model(model, name="model", input_example=X[:5])
        mv = mlflow.register_model(f"runs:/{run.info.run_id}/model", "clf")
        loaded = mlflow.pyfunc.load_model(f"models:/clf/{mv.version}")
        loaded.predict(X[:3])
        times.append(time.perf_counter() - t0)
        assert int(mv.version) == i + 1
    return {"seconds": statistics.median(times), "all": times}


def prepare(tool: str, work: Path) -> dict:
    """One registered model, ``clf`` version 1, to serve."""
    (loom_cycle if tool == "loom" else mlflow_cycle)(work, 1)
    return {"uri": "models:/clf/1"}


def cold_load(tool: str, work: Path) -> dict:
    """Load and score the prepared model; the harness times the whole process."""
    import numpy as np

    x = np.zeros((1, 8))
    if tool == "loom":
        import loom

        loom.set_tracking_uri(f"sqlite:///{work / 'loom.db'}")
        loom.load_model("models:/clf/1").predict(x)
    else:
        import mlflow
        import mlflow.pyfunc

        mlflow.set_tracking_uri(f"sqlite:///{work / 'mlflow.db'}")
        mlflow.pyfunc.load_model("models:/clf/1").predict(x)
    return {}


def loom_history(work: Path, n: int) -> dict:
    """``n`` moves of one alias over a year, then which version held it at 50 instants."""
    from loom.store import open_store
    from loom.tracking.client import Client

    uri = f"sqlite:///{work / 'loom.db'}"
    store = open_store(uri)
    versions = 20
    for v in range(versions):
        store.create_model_version("hist", f"bench:{v}", f"{v:064x}")
    start = int(time.time() * 1000) - 365 * 86_400_000
    step = 365 * 86_400_000 // n
    for i in range(n):
        store.set_registered_model_alias(
            "hist", "production", 1 + i % versions, time=start + i * step
        )
    store.close()
    times = []
    with Client(uri) as client:
        for k in range(50):
            at = start + (k * 7919 % n) * step + step // 2
            t0 = time.perf_counter()
            mv = client.get_model_version_at("hist", "production", at)
            times.append(time.perf_counter() - t0)
            assert mv is not None
    return {"seconds": statistics.median(times), "max": max(times)}


def main() -> int:
    tool, op, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)  # MLflow puts its artifacts under ./mlruns
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    if op == "cycle":
        out = (loom_cycle if tool == "loom" else mlflow_cycle)(work, n)
    elif op == "prepare":
        out = prepare(tool, work)
    elif op == "cold":
        out = cold_load(tool, work)
    elif op == "history":
        out = loom_history(work, n)
    else:
        raise SystemExit(f"unknown op {op}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
