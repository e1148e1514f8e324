"""How a run's process ends — exit, SIGTERM, SIGKILL — and what the store holds after."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loom.store.entities import RunStatus
from loom.tracking.client import Client

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _env(uri: str) -> dict[str, str]:
    return {**os.environ, "LOOM_TRACKING_URI": uri, "PYTHONPATH": SRC, "LOOM_CAPTURE_ENV": "0"}


def _start(tmp_path: Path, uri: str, body: str) -> subprocess.Popen[str]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(uri),
    )


def test_a_copy_of_loom_db_alone_holds_the_newest_run(tmp_path: Path) -> None:
    """The process ended: its rows must be in loom.db, not only in loom.db-wal."""
    db = tmp_path / "store" / "loom.db"
    uri = f"sqlite:///{db}"
    with Client(uri) as c:  # an older run, so the file exists before the process starts
        c.set_terminated(c.create_run(c.create_experiment("e").experiment_id).run_id)
    proc = _start(
        tmp_path,
        uri,
        """
        import loom
        loom.set_experiment("e")
        with loom.start_run(name="newest") as run:
            loom.log_params({"lr": 0.1})
            for i in range(50):
                loom.log_metric("loss", 1.0 / (i + 1), step=i)
        print(run.run_id)
        """,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert not Path(f"{db}-wal").exists()  # at rest, the store is one file
    copy = tmp_path / "copy" / "loom.db"
    copy.parent.mkdir()
    shutil.copyfile(db, copy)  # only loom.db: no -wal, no -shm
    with sqlite3.connect(copy) as conn:
        status = conn.execute("SELECT status FROM runs WHERE run_id = ?", (out.strip(),))
        assert status.fetchall() == [("FINISHED",)]
        points = conn.execute("SELECT count(*) FROM metrics WHERE run_id = ?", (out.strip(),))
        assert points.fetchone() == (50,)


def test_end_run_folds_the_wal_while_the_process_lives_on(tmp_path: Path) -> None:
    db = tmp_path / "loom.db"
    with Client(f"sqlite:///{db}") as c:
        run = c.create_run(c.create_experiment("e").experiment_id, name="ended")
        c.log_metric(run.run_id, "x", 1.0)
        c.set_terminated(run.run_id)
        shutil.copyfile(db, tmp_path / "copy.db")  # the client is still open
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        got = conn.execute("SELECT status FROM runs WHERE run_id = ?", (run.run_id,)).fetchall()
    assert got == [("FINISHED",)]


_LOOP = """
    import time
    i = 0
    while True:
        loom.log_metric("loss", float(i), step=i)
        if i == 0:
            print(run.run_id, flush=True)
        i += 1
        time.sleep(0.01)
"""


@pytest.mark.parametrize("shape", ["with", "no-with"])
def test_sigterm_ends_the_run_killed_and_exits_143(
    store_uri: str, tmp_path: Path, shape: str
) -> None:
    """docker stop / Slurm: a `with` block and the exit handler both see it."""
    if shape == "with":
        body = "import loom\nwith loom.start_run() as run:\n" + textwrap.indent(
            textwrap.dedent(_LOOP), "    "
        )
    else:
        body = "import loom\nrun = loom.start_run()\n" + textwrap.dedent(_LOOP)
    proc = _start(tmp_path, store_uri, body)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.communicate()[1]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    with Client(store_uri) as c:
        run = c.get_run(run_id)
        assert run.status == RunStatus.KILLED and run.end_time is not None
        assert run.metrics["loss"] >= 0  # the buffered points were written on the way out


def test_a_users_sigterm_handler_is_left_alone(store_uri: str, tmp_path: Path) -> None:
    proc = _start(
        tmp_path,
        store_uri,
        """
        import signal, sys, loom
        def mine(signum, frame):
            print("mine", flush=True)
            loom.end_run("FAILED")
            sys.exit(7)
        signal.signal(signal.SIGTERM, mine)
        run = loom.start_run()
        print(run.run_id, flush=True)
        signal.pause()
        """,
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 7 and out.strip() == "mine", err
    with Client(store_uri) as c:
        assert c.get_run(run_id).status == RunStatus.FAILED


def test_sigterm_after_the_run_ended_is_python_default_again(store_uri: str, tmp_path) -> None:
    proc = _start(
        tmp_path,
        store_uri,
        """
        import signal, loom
        with loom.start_run() as run:
            pass
        print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, flush=True)
        signal.pause()
        """,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "True"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGTERM


def test_mark_stale_ends_a_killed_run_at_its_last_activity(store_uri: str, tmp_path: Path) -> None:
    """SIGKILL: nothing runs in the process; mark-stale takes the last metric's time,
    or the start for a run that logged none — not the moment mark-stale ran."""
    proc = _start(
        tmp_path,
        store_uri,
        """
        import signal, loom
        from loom.tracking import fluent
        c = fluent.get_client()
        exp = loom.set_experiment("e").experiment_id
        quiet = c.create_run(exp, name="quiet")
        busy = c.create_run(exp, name="busy")
        c.log_metric(busy.run_id, "loss", 0.5, step=1, timestamp=busy.start_time + 1234)
        c.log_metric(busy.run_id, "loss", 0.4, step=2, timestamp=busy.start_time + 2345)
        c.flush()
        print(quiet.run_id, busy.run_id, flush=True)
        signal.pause()
        """,
    )
    assert proc.stdout is not None
    quiet_id, busy_id = proc.stdout.readline().split()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with Client(store_uri) as c:
        assert sorted(r.run_id for r in c.mark_stale()) == sorted([quiet_id, busy_id])
        quiet, busy = c.get_run(quiet_id), c.get_run(busy_id)
        assert quiet.status == busy.status == RunStatus.KILLED
        assert quiet.end_time == quiet.start_time
        assert busy.end_time == busy.start_time + 2345
