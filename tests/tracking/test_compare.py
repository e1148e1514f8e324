"""Runs side by side and the environment/user tag split: rules the CLI, server and UI share."""

from __future__ import annotations

import math

from loom.store.entities import Run, RunStatus
from loom.tracking.compare import compare_runs, split_tags


def _run(run_id: str, **kw) -> Run:
    fields = {"name": run_id, "status": RunStatus.FINISHED, "start_time": 1000, **kw}
    return Run(run_id=run_id, experiment_id="1", **fields)


def test_split_tags_keeps_the_environment_apart() -> None:
    user, env = split_tags(
        {"team": "search", "loom.host": "gpu1", "mlflow.parentRunId": "x", "loomy": "y"}
    )
    assert user == {"team": "search", "loomy": "y"}
    assert env == {"loom.host": "gpu1", "mlflow.parentRunId": "x"}


def test_compare_rows_values_and_differences() -> None:
    a = _run(
        "a",
        end_time=3000,
        params={"lr": "0.1", "epochs": "10"},
        metrics={"acc": 0.9, "loss": math.nan},
        tags={"team": "x", "loom.pid": "1"},
    )
    b = _run(
        "b",
        end_time=None,
        status=RunStatus.RUNNING,
        params={"lr": "0.01", "epochs": "10"},
        metrics={"acc": 0.9, "loss": math.nan, "f1": 0.5},
        tags={"team": "x", "loom.pid": "2"},
    )
    rows = {r.key: r for r in compare_runs([a, b])}
    assert list(rows)[:4] == ["name", "status", "started", "duration"]
    assert rows["status"].values == ("FINISHED", "RUNNING") and rows["status"].differs
    assert rows["started"].values == (1000, 1000) and not rows["started"].differs
    assert rows["duration"].values == (2000, None)
    assert rows["params.lr"].differs and not rows["params.epochs"].differs
    assert not rows["metrics.acc"].differs
    assert not rows["metrics.loss"].differs  # NaN and NaN are the same result
    assert rows["metrics.f1"].values == (None, 0.5) and rows["metrics.f1"].differs
    assert not rows["tags.team"].differs and "tags.loom.pid" not in rows  # environment
    assert rows["params.lr"].section == "params"
