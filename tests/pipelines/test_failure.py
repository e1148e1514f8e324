"""A failing command stops the pipeline, lets the running stages finish, keeps its lock entry,
records its run FAILED with the stderr tail, and says which stage failed and why."""

from __future__ import annotations

import json

from loom.data.api import info
from loom.pipelines import lock
from loom.tracking.client import Client

from .conftest import PY, ran, write

SLOW = """\
import time
time.sleep(1.5)
open("runs.log", "a").write("slow\\n")
open("slow.txt", "w").write("slow")
"""
BAD = """\
import sys
open("runs.log", "a").write("bad\\n")
mode = open("mode.txt").read().strip()
open("bad.txt", "w").write(mode)
if mode == "fail":
    print("something went wrong: boom", file=sys.stderr)
    sys.exit(3)
"""
LOOM = f"""\
stages:
  slow:
    cmd: {PY} slow.py
    deps: [slow.py]
    outs: [slow.txt]
  bad:
    cmd: {PY} bad.py
    deps: [bad.py, mode.txt]
    outs: [bad.txt]
  after:
    cmd: {PY} -c "open('runs.log', 'a').write('after\\\\n'); open('after.txt', 'w').write('a')"
    deps: [bad.txt]
    outs: [after.txt]
"""


def _project(root) -> None:
    write(root / "slow.py", SLOW)
    write(root / "bad.py", BAD)
    write(root / "mode.txt", "ok")
    write(root / "loom.yaml", LOOM)


def test_a_failing_stage_stops_the_pipeline_and_keeps_its_lock_entry(ws, cli) -> None:
    root = ws.root
    _project(root)
    assert cli("repro").code == 0
    bad_before = lock.read(root)["bad"]
    (root / "runs.log").unlink()

    write(root / "mode.txt", "fail")
    write(root / "slow.py", SLOW + "# changed\n")
    r = cli("repro", "-j", "2")
    assert r.code == 1
    assert "Error: Stage 'bad' failed: its command exited with status 3." in r.err
    assert "something went wrong: boom" in r.err and "Traceback" not in r.err
    assert sorted(ran(root)) == ["bad", "slow"]  # slow was let finish; after never started
    after = lock.read(root)
    assert after["bad"] == bad_before  # as it was
    assert after["slow"].deps[0].hash == info("slow.py").hash  # let finish, and locked

    with Client() as client:
        exp = client.experiment("pipelines")
        runs = client.search_runs([exp.experiment_id], "tags.`loom.stage` = 'bad'").items
        failed = [r for r in runs if r.status == "FAILED"]
        assert len(failed) == 1
        assert failed[0].tags["loom.stage.exit_status"] == "3"
        path = client.download_artifacts(failed[0].run_id, "loom/stderr.txt", root / "dl")
        assert "boom" in path.read_text()
    assert failed[0].run_id in r.err  # the hint names the run


def test_json_says_what_happened_to_each_stage(ws, cli) -> None:
    _project(ws.root)
    write(ws.root / "mode.txt", "fail")
    r = cli("repro", "--json")
    assert r.code == 1
    doc = json.loads(r.out)
    actions = {s["stage"]: s["action"] for s in doc["stages"]}
    assert actions == {"slow": "ran", "bad": "failed"}
    assert "boom" in r.err  # the stage's own stderr, and the error


def test_a_stage_that_does_not_write_its_out_fails(ws, cli) -> None:
    write(ws.root / "loom.yaml", f"stages:\n  a:\n    cmd: {PY} -c pass\n    outs: [never.txt]\n")
    r = cli("repro")
    assert r.code == 1
    assert "loom.yaml:4: stage 'a' finished but did not write its out never.txt" in r.err
    assert not (ws.root / "loom.lock").exists()


def test_a_dep_its_upstream_did_not_write_stops_the_pipeline_after_the_others(ws, cli) -> None:
    write(ws.root / "slow.py", SLOW)
    make = f"{PY} -c \"import os; os.makedirs('made', exist_ok=True); open('made/a', 'w')\""
    use = f"{PY} -c \"open('used', 'w').write(open('made/b').read())\""
    write(
        ws.root / "loom.yaml",
        f"stages:\n  make:\n    cmd: {make}\n    outs: [made]\n"
        f"  use:\n    cmd: {use}\n    deps: [made/b]\n    outs: [used]\n"
        f"  slow:\n    cmd: {PY} slow.py\n    outs: [slow.txt]\n",
    )
    r = cli("repro", "-j", "2")
    assert r.code == 1
    assert "Stage 'use' could not run: loom.yaml:7: stage 'use': the dep made/b does not exist" in (
        r.err
    )
    assert ran(ws.root) == ["slow"]  # let finish
    assert set(lock.read(ws.root)) == {"make", "slow"}
