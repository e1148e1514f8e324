"""What a run costs the store: the number of write transactions the fluent API makes.

Speed on a loaded machine is noisy; the count of transactions is not, and it is
what made a run cost 48 ms (issue 3). A run of the benchmark's shape (start,
params, metrics, tags, end) with the environment captured costs three.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

import loom
from loom.store.entities import RunStatus
from loom.tracking import fluent


def _one_run(i: int) -> str:
    run = loom.start_run()
    loom.log_params({f"p{k}": k * i for k in range(20)})
    loom.log_metrics({f"m{k}": k / 10 for k in range(5)})
    loom.set_tags({f"t{k}": f"tag-{i}" for k in range(3)})
    loom.end_run()
    return run.run_id


def test_a_run_costs_three_write_transactions(
    store_uri: str, git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOM_CAPTURE_ENV", "1")
    loom.set_tracking_uri(store_uri)
    loom.set_experiment("costs")
    first = _one_run(0)  # the environment is captured once, in the background
    writes: list[bool] = []
    engine = fluent.get_client().backend.store._engine

    def on_begin(conn) -> None:
        writes.append(conn.get_execution_options().get("loom_write", False))

    event.listen(engine, "begin", on_begin)
    try:
        ids = [_one_run(i) for i in range(1, 6)]
    finally:
        event.remove(engine, "begin", on_begin)
    # create (with tags and env artifacts), params, end (last points + status); the
    # background flusher may wake once in between and write the points on its own
    assert sum(writes) <= 3 * len(ids) + 1, writes
    client = fluent.get_client()
    env_files = {a.path: a.hash for a in client.list_artifacts(first)}
    assert "loom/requirements.txt" in env_files
    for rid in ids:
        got = client.get_run(rid)
        assert got.status == RunStatus.FINISHED and got.end_time is not None
        assert len(got.params) == 20 and len(got.metrics) == 5
        assert got.tags["t0"].startswith("tag-") and "loom.python.version" in got.tags
        assert {a.path: a.hash for a in client.list_artifacts(rid)} == env_files
