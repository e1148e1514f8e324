"""Ctrl-C or SIGTERM to a real ``loom repro``: the stage's whole process group is killed, its run
ends KILLED, and every lock entry stays consistent."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from loom.pipelines import lock
from loom.tracking.client import Client
from tests.conftest import wait_for

from .conftest import PY, alive, write

SLEEPER = """\
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
os.makedirs("pids", exist_ok=True)
open("pids/child.tmp", "w").write(str(child.pid))
os.rename("pids/child.tmp", "pids/child")
open("pids/stage.tmp", "w").write(str(os.getpid()))
os.rename("pids/stage.tmp", "pids/stage")
time.sleep(300)
open("slept.txt", "w").write("done")
"""


def started(proc: subprocess.Popen, root) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"loom repro ended early: {proc.communicate()}")
    return (root / "pids/stage").exists()  # written last, after pids/child


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_stopping_repro_kills_the_stage_group_and_keeps_the_lock(ws, sig, code) -> None:
    root = ws.root
    write(root / "fast.txt", "1")
    write(root / "sleeper.py", SLEEPER)
    write(
        root / "loom.yaml",
        f"""\
stages:
  fast:
    cmd: {PY} -c "open('fast.out', 'w').write(open('fast.txt').read())"
    deps: [fast.txt]
    outs: [fast.out]
  sleeper:
    cmd: {PY} sleeper.py
    deps: [sleeper.py, fast.out]
    outs: [slept.txt]
""",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "loom", "repro"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: started(proc, root), what="the stage and its child")
        stage = int((root / "pids/stage").read_text())
        child = int((root / "pids/child").read_text())
        locked = (root / "loom.lock").read_bytes()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, (out, err)
    assert "Traceback" not in err
    wait_for(lambda: not alive(stage) and not alive(child), what="the stage's group to die")
    # fast's entry was written when it finished; sleeper's never: the lock is as it was
    assert (root / "loom.lock").read_bytes() == locked
    assert set(lock.read(root)) == {"fast"}
    with Client() as client:
        exp = client.experiment("pipelines")
        runs = {
            r.tags["loom.stage"]: r.status for r in client.search_runs([exp.experiment_id]).items
        }
    assert runs == {"fast": "FINISHED", "sleeper": "KILLED"}
