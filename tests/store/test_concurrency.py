"""Eight processes at once on one SQLite store: no "database is locked", nothing lost."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from loom.store import Metric, RunStatus, open_store

WORKERS = 8
BATCHES = 25
PER_BATCH = 40


def _worker(uri: str, experiment_id: str, index: int) -> str:
    store = open_store(uri)  # every worker also races through the migration check
    run = store.create_run(experiment_id, name=f"w{index}")
    for b in range(BATCHES):
        points = [
            Metric("loss", float(b * PER_BATCH + i), 1_700_000_000_000 + b, b * PER_BATCH + i)
            for i in range(PER_BATCH)
        ]
        store.log_batch(run.run_id, points, params={f"p{b}": str(index)}, tags={"b": str(b)})
    store.update_run(run.run_id, status=RunStatus.FINISHED, end_time=1)
    store.close()
    return run.run_id


def test_eight_processes_log_to_one_sqlite_store(tmp_path: Path) -> None:
    """The store is fresh: the eight also race through the first migration."""
    uri = f"sqlite:///{tmp_path / 'loom.db'}"
    ctx = mp.get_context("spawn")
    with ctx.Pool(WORKERS) as pool:
        run_ids = pool.starmap(_worker, [(uri, "0", i) for i in range(WORKERS)])
    _check_everything_stored(uri, run_ids)


def _check_everything_stored(uri: str, run_ids: list[str]) -> None:
    store = open_store(uri)
    assert len(set(run_ids)) == len(run_ids)
    assert [e.name for e in store.list_experiments()] == ["Default"]  # migrated once
    for run_id in run_ids:
        history = store.get_metric_history(run_id, "loss")
        assert [p.step for p in history] == list(range(BATCHES * PER_BATCH))
        run = store.get_run(run_id)
        assert len(run.params) == BATCHES and run.status == RunStatus.FINISHED
        assert run.metrics["loss"] == BATCHES * PER_BATCH - 1
    store.close()


def test_a_writer_killed_mid_stream_leaves_a_consistent_store(tmp_path: Path) -> None:
    """SIGKILL between batches: every committed batch is whole, the store opens fine."""
    uri = f"sqlite:///{tmp_path / 'loom.db'}"
    store = open_store(uri)
    run_id = store.create_run("0").run_id
    code = (
        "import sys, itertools; from loom.store import open_store, Metric\n"
        "s = open_store(sys.argv[1])\n"
        "for b in itertools.count():\n"
        "    s.log_batch(sys.argv[2], [Metric('m', 1.0, b, b * 100 + i) for i in range(100)])\n"
        "    print(b, flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, uri, run_id], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    for _ in range(20):  # wait until 20 batches are committed
        assert proc.stdout.readline(), "the writer died early"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    history = open_store(uri).get_metric_history(run_id, "m")
    assert len(history) >= 2000 and len(history) % 100 == 0


@pytest.mark.postgres
def test_concurrent_writers_on_a_fresh_postgres_schema(pg_schema: str) -> None:
    ctx = mp.get_context("spawn")
    with ctx.Pool(4) as pool:
        run_ids = pool.starmap(_worker, [(pg_schema, "0", i) for i in range(4)])
    _check_everything_stored(pg_schema, run_ids)
