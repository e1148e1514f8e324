"""A sweep: eight processes call ``loom.set_experiment("new-name")`` at the same moment."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loom.tracking.client import Client
from tests.conftest import wait_for

SRC = str(Path(__file__).resolve().parents[2] / "src")
PROCESSES = 8

# Everything slow (imports, the client) happens before the barrier; after it, each
# process opens the store (a fresh one: migrations race too) and asks for the name.
_SCRIPT = """
import os, sys, time
import loom
from loom.tracking import fluent
fluent.get_client()
ready, go = sys.argv[1], sys.argv[2]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
exp = loom.set_experiment("sweep-01")
with loom.start_run():
    loom.log_metric("x", 1.0)
print(exp.experiment_id)
"""


@pytest.mark.parametrize("store", ["fresh-sqlite", "existing-sqlite", "postgres"])
def test_eight_processes_set_the_same_new_experiment(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if store == "postgres":
        uri = request.getfixturevalue("pg_store_uri")  # a fresh, empty schema
    else:
        uri = f"sqlite:///{tmp_path / 'store' / 'loom.db'}"
    if store == "existing-sqlite":
        with Client(uri) as c:
            c.create_experiment("earlier")
    script = tmp_path / "sweep.py"
    script.write_text(textwrap.dedent(_SCRIPT))
    env = {**os.environ, "LOOM_TRACKING_URI": uri, "PYTHONPATH": SRC, "LOOM_CAPTURE_ENV": "0"}
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / f"ready-{i}"), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(PROCESSES)
    ]
    try:
        wait_for(
            lambda: all((tmp_path / f"ready-{i}").exists() for i in range(PROCESSES)),
            timeout=120,
            what="every process at the barrier",
        )
        go.touch()
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.wait()
    errors = [err for p, (_, err) in zip(procs, results, strict=True) if p.returncode != 0]
    assert errors == []
    ids = {out.strip() for out, _ in results}
    assert len(ids) == 1
    with Client(uri) as c:
        named = [e for e in c.list_experiments() if e.name == "sweep-01"]
        assert [e.experiment_id for e in named] == list(ids)
        runs = c.search_runs(["sweep-01"]).items
        assert len(runs) == PROCESSES
