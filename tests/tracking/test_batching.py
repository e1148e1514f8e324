"""Async batched logging: fast calls, visible after flush, errors raised later, exit flush."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from loom.errors import NotFoundError
from loom.store.entities import RunStatus
from loom.tracking.client import Client, now_ms
from tests.conftest import wait_for


def _run(client: Client):
    return client.create_run(client.create_experiment("e").experiment_id)


def test_log_metric_returns_in_microseconds_and_flush_makes_all_visible(client) -> None:
    run = _run(client)
    n = 5000
    start = time.perf_counter()
    for i in range(n):
        client.log_metric(run.run_id, "loss", 1.0 / (i + 1), step=i)
    per_call = (time.perf_counter() - start) / n
    # a guard of the design, not a benchmark (benchmarks/ measures speed): a call that
    # wrote to the store itself would take milliseconds; buffering takes microseconds
    assert per_call < 1e-3, f"log_metric took {per_call * 1e6:.1f} µs per call"
    client.flush()
    assert len(client.backend.get_metric_history(run.run_id, "loss")) == n


def test_background_thread_writes_without_any_flush(store_uri: str) -> None:
    with Client(store_uri) as writer, Client(store_uri) as reader:
        run = _run(writer)
        for i in range(100):
            writer.log_metric(run.run_id, "x", i, step=i)
        # The reader has its own buffer: what it sees was written by the writer's thread.
        wait_for(
            lambda: len(reader.backend.get_metric_history(run.run_id, "x")) == 100,
            timeout=10,
            what="background flush",
        )


def test_a_failed_background_write_is_raised_at_the_next_call(client) -> None:
    run = _run(client)
    ghost = "f" * 32  # no such run: the store refuses the batch in the flusher thread
    client.log_metric(ghost, "loss", 1.0)
    wait_for(lambda: client._buffer.pending() == 0, timeout=10, what="the bad batch to be tried")
    with pytest.raises(NotFoundError):
        client.log_metric(run.run_id, "loss", 2.0)
    client.log_metric(run.run_id, "loss", 3.0)  # raised once, then logging goes on
    client.flush()
    assert [m.value for m in client.get_metric_history(run.run_id, "loss")] == [3.0]


def test_a_failed_write_is_raised_by_flush_and_by_end_run(client) -> None:
    run = _run(client)
    client.log_metric("e" * 32, "loss", 1.0)
    with pytest.raises(NotFoundError):
        client.flush()
    client.log_metric("e" * 32, "loss", 1.0)
    with pytest.raises(NotFoundError):
        client.set_terminated(run.run_id)
    assert client.get_run(run.run_id).status == RunStatus.FINISHED


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(body))
    return path


def _env(uri: str, **extra: str) -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {**os.environ, "LOOM_TRACKING_URI": uri, "PYTHONPATH": src, **extra}


def test_interpreter_exit_flushes_and_ends_the_run(store_uri: str, tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        import loom
        loom.set_experiment("exit")
        run = loom.start_run(name="no-with")
        for i in range(300):
            loom.log_metric("loss", i, step=i)
        print(run.run_id)
        """,
    )
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=_env(store_uri, LOOM_FLUSH_INTERVAL="1"),
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    with Client(store_uri) as c:
        run = c.get_run(out.stdout.strip())
        assert run.status == RunStatus.FINISHED
        assert len(c.get_metric_history(run.run_id, "loss")) == 300


def test_uncaught_exception_at_exit_ends_the_run_failed(store_uri: str, tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        import sys, loom
        run = loom.start_run()
        print(run.run_id, flush=True)
        loom.log_metric("loss", 1.0)
        raise RuntimeError("boom")
        """,
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=_env(store_uri)
    )
    assert out.returncode == 1 and "RuntimeError: boom" in out.stderr
    with Client(store_uri) as c:
        run = c.get_run(out.stdout.strip())
        assert run.status == RunStatus.FAILED and run.metrics == {"loss": 1.0}


@pytest.mark.slow
def test_sigkill_loses_at_most_the_last_batch_and_mark_stale_kills(
    store_uri: str, tmp_path: Path
) -> None:
    script = _script(
        tmp_path,
        """
        import loom, time
        run = loom.start_run(name="doomed")
        print(run.run_id, flush=True)
        i = 0
        while True:
            loom.log_metric("loss", float(i), step=i)
            i += 1
            time.sleep(0.001)
        """,
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(store_uri, LOOM_FLUSH_INTERVAL="0.2"),
    )
    try:
        run_id = proc.stdout.readline().strip()
        with Client(store_uri) as c:
            wait_for(
                lambda: len(c.backend.get_metric_history(run_id, "loss")) >= 200,
                timeout=30,
                what="200 points in the store",
            )
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            history = c.get_metric_history(run_id, "loss")
            steps = [m.step for m in history]
            assert steps == list(range(len(steps)))  # a prefix, no holes, nothing torn
            assert c.get_run(run_id).status == RunStatus.RUNNING
            assert [r.run_id for r in c.mark_stale(dry_run=True)] == [run_id]
            assert [r.run_id for r in c.mark_stale()] == [run_id]
            assert c.get_run(run_id).status == RunStatus.KILLED
            assert c.mark_stale() == []
    finally:
        proc.kill()
        proc.wait()


def test_mark_stale_leaves_live_runs_alone(client) -> None:
    run = _run(client)  # owned by this (live) process
    assert client.mark_stale() == []
    assert client.get_run(run.run_id).status == RunStatus.RUNNING
    wait_for(lambda: now_ms() > run.start_time, what="a millisecond to pass")
    assert [r.run_id for r in client.mark_stale(older_than=0)] == [run.run_id]


@pytest.mark.slow
def test_eight_processes_logging_to_one_sqlite_store(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    with Client(uri) as c:
        c.upgrade()
        exp = c.create_experiment("parallel")
    script = _script(
        tmp_path,
        f"""
        import loom
        with loom.start_run(experiment_id="{exp.experiment_id}") as run:
            for i in range(500):
                loom.log_metric("x", float(i), step=i)
                if i % 50 == 0:
                    loom.log_param(f"p{{i}}", i)
        print(run.run_id)
        """,
    )
    procs = [
        subprocess.Popen(
            [sys.executable, str(script)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(uri, LOOM_FLUSH_INTERVAL="0.05"),
        )
        for _ in range(8)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0 and "locked" not in err, err
    with Client(uri) as c:
        for out, _ in results:
            run = c.get_run(out.strip())
            assert run.status == RunStatus.FINISHED and len(run.params) == 10
            assert len(c.get_metric_history(run.run_id, "x")) == 500


def test_buffer_keeps_points_of_a_failed_write_and_retries_them() -> None:
    from loom.errors import StoreError, ValidationError
    from loom.store.entities import Metric
    from loom.tracking.batching import MetricBuffer

    stored: list[tuple[str, list[float], dict[str, str]]] = []
    failures = [OSError("disk full"), ValidationError("bad key")]

    def write(run_id, metrics, tags) -> None:
        if failures:
            raise failures.pop(0)
        stored.append((run_id, [m.value for m in metrics], tags))

    buf = MetricBuffer(write, interval=60)
    buf.add("r1", Metric("x", 1.0, 0, 0))
    buf.add("r1", ("stage", "a"))
    buf.add("r1", ("stage", "b"))
    with pytest.raises(StoreError, match="disk full") as err:
        buf.flush()
    assert "loom.flush()" in err.value.hint and buf.pending() == 2
    buf.add("r2", Metric("y", 2.0, 0, 0))
    with pytest.raises(ValidationError):  # a refused batch is dropped, not retried forever
        buf.flush()
    buf.flush()
    assert stored == [("r2", [2.0], {})]
    buf.add("r3", Metric("z", 3.0, 0, 0))
    buf.close()
    assert stored[-1] == ("r3", [3.0], {})


def test_forked_child_logs_to_the_run_and_leaves_it_running(store_uri: str, tmp_path) -> None:
    script = _script(
        tmp_path,
        """
        import os, sys, loom
        from loom.tracking import fluent
        run = loom.start_run()
        loom.log_metric("parent", 1.0)  # unflushed at fork: the child must not write it again
        pid = os.fork()
        if pid == 0:
            loom.log_metric("child", 2.0)
            sys.exit(0)  # atexit flushes the child's point, and must not end the run
        os.waitpid(pid, 0)
        print(run.run_id, fluent.get_client().get_run(run.run_id).status, flush=True)
        loom.end_run()
        """,
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=_env(store_uri)
    )
    assert out.returncode == 0, out.stderr
    run_id, status_after_child = out.stdout.split()
    assert status_after_child == "RUNNING"
    with Client(store_uri) as c:
        run = c.get_run(run_id)
        assert run.status == RunStatus.FINISHED and run.metrics == {"parent": 1.0, "child": 2.0}
        assert len(c.get_metric_history(run_id, "parent")) == 1


def test_log_batch_hands_points_over_in_bulk_and_end_run_writes_them(client) -> None:
    # more points than max_pending: the flusher is woken, and end_run still writes
    # the rest together with the status
    from loom.store.entities import Metric

    run = _run(client)
    client._buffer.max_pending = 500
    ts = now_ms()
    for b in range(6):
        client.log_batch(
            run.run_id, [Metric("loss", b * 1000 + j, ts, b * 1000 + j) for j in range(1000)]
        )
    client.set_tag(run.run_id, "phase", "done")
    client.set_terminated(run.run_id)
    assert client._buffer.pending() == 0
    history = client.get_metric_history(run.run_id, "loss")
    assert [m.step for m in history] == list(range(6000))
    got = client.get_run(run.run_id)
    assert got.metrics["loss"] == 5999 and got.tags["phase"] == "done"
    assert got.status == RunStatus.FINISHED


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_ctrl_c_during_a_flush_stays_itself_and_keeps_the_points(interrupt) -> None:
    from loom.store.entities import Metric
    from loom.tracking.batching import MetricBuffer

    stored: list[list[float]] = []
    interrupts = [interrupt()]

    def write(run_id, metrics, tags) -> None:
        if interrupts:
            raise interrupts.pop()
        stored.append([m.value for m in metrics])

    buf = MetricBuffer(write, interval=60)
    buf.add_many("r1", [Metric("x", float(i), 0, i) for i in range(5)])
    with pytest.raises(interrupt):  # not a StoreError wrapping it
        buf.flush()
    assert buf.pending() == 5 and stored == []
    buf.add("r1", Metric("x", 5.0, 0, 5))  # logging goes on: nothing kept to raise later
    buf.flush()
    assert stored == [[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]]


@pytest.mark.postgres
def test_ctrl_c_while_a_flush_waits_on_the_database(pg_store_uri: str, tmp_path: Path) -> None:
    """A real SIGINT lands while the flush waits on a lock: the process gets a
    KeyboardInterrupt, and its points are written by the next flush."""
    import uuid

    import psycopg

    app = "loom-ctrl-c-" + uuid.uuid4().hex[:8]
    uri = f"{pg_store_uri}&application_name={app}"
    script = _script(
        tmp_path,
        """
        import sys
        from loom.tracking.client import Client
        c = Client(sys.argv[1])
        c._buffer.interval = 3600  # only the flushes below write: no background race
        run = c.create_run(c.create_experiment("e").experiment_id)
        for i in range(100):
            c.log_metric(run.run_id, "x", float(i), step=i)
        print(run.run_id, flush=True)
        sys.stdin.readline()  # the test holds the lock now
        try:
            c.flush()
            print("flushed", flush=True)
        except KeyboardInterrupt:
            print("interrupted", c._buffer.pending(), flush=True)
        except BaseException as exc:
            print("other", type(exc).__name__, flush=True)
        sys.stdin.readline()  # the lock is gone
        c.close()
        print("closed", flush=True)
        """,
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), uri],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(uri),
    )
    assert proc.stdin is not None and proc.stdout is not None
    plain = pg_store_uri.replace("postgresql+psycopg", "postgresql")
    try:
        run_id = proc.stdout.readline().strip()
        with psycopg.connect(plain) as locker:
            locker.execute("LOCK TABLE metrics IN ACCESS EXCLUSIVE MODE")
            proc.stdin.write("go\n")
            proc.stdin.flush()

            def waiting() -> bool:
                with psycopg.connect(plain, autocommit=True) as conn:
                    row = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE application_name = %s AND wait_event_type = 'Lock'",
                        (app,),
                    ).fetchone()
                return bool(row and row[0])

            wait_for(waiting, timeout=30, what="the flush to wait on the lock")
            proc.send_signal(signal.SIGINT)
            assert proc.stdout.readline().split() == ["interrupted", "100"]
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "closed"
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()
    with Client(pg_store_uri) as c:
        assert [m.step for m in c.get_metric_history(run_id, "x")] == list(range(100))
