"""``loom reproduce RUN``: the run's commit in a temporary worktree, its data versions from the
cache or the remote, its params; run again; compare metrics. Real stages, git and CLI."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys

from loom.pipelines.experiments.reproduce import reproduce
from loom.pipelines.experiments.run import run_in_workspace
from loom.pipelines.repro import repro
from loom.tracking.client import Client
from tests.conftest import wait_for
from tests.data.conftest import loom_run, snapshot

from .conftest import PY, commit, git, write

TRAIN = """\
import json, os, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
rows = sum(len(open(os.path.join("data", n)).read().split()) for n in sorted(os.listdir("data")))
os.makedirs("model", exist_ok=True)
open("model/weights", "w").write(f"{p['lr']} {rows}\\n")
json.dump({"score": rows * p["lr"], "rows": rows}, open("metrics.json", "w"))
"""

PIPELINE = f"""\
stages:
  train:
    cmd: {PY} train.py
    deps: [data, train.py]
    params: [train]
    outs: [model]
    metrics: [metrics.json]
"""


def _tiny(ws, cli) -> None:
    """A deterministic one-stage pipeline on data tracked with ``loom add``, committed."""
    root = ws.root
    write(root / "data/a.txt", "1 2 3\n")
    write(root / "data/b.txt", "4 5\n")
    assert cli("add", "data").code == 0
    write(root / "params.yaml", "train:\n  lr: 0.5\n")
    write(root / "train.py", TRAIN)
    write(root / "loom.yaml", PIPELINE)
    commit("tiny pipeline")


def _files(root) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(root).items() if not k.startswith((".loom/", ".git/"))}


def old_input(ws, run_id: str) -> str:
    with Client() as client:
        return {i.path: i.hash for i in client.get_run(run_id).inputs}["data"]


def _reproductions(client: Client, run_id: str) -> list:
    exp = client.experiment("pipelines")
    return client.search_runs([exp.experiment_id], f"tags.`loom.reproduces` = '{run_id}'").items


def test_reproduce_rebuilds_an_old_experiment_from_cache_then_from_the_remote(
    ws, cli, tmp_path
) -> None:
    root = ws.root
    _tiny(ws, cli)
    # the experiment runs uncommitted code: its base commit holds it
    write(root / "train.py", TRAIN.replace('rows * p["lr"]', 'rows * p["lr"] + 1'))
    old = run_in_workspace(ws, ["train.lr=0.25"], name="old")
    assert old.metrics == {"score": 5 * 0.25 + 1, "rows": 5}
    # afterwards: other code, other data, other params, all committed
    write(root / "train.py", TRAIN.replace('rows * p["lr"]', 'rows * p["lr"] * 2'))
    write(root / "data/a.txt", "1 2 3 6 7 8\n")
    assert cli("add", "data").code == 0
    run_in_workspace(ws, ["train.lr=0.9"], name="new")
    commit("v2")
    before = _files(root)

    r = loom_run("reproduce", "old", "--check", cwd=root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "the same metrics" in r.stdout and "score" in r.stdout
    assert _files(root) == before  # the workspace is untouched
    assert git("worktree", "list").count("\n") == 1
    with Client() as client:
        [again] = _reproductions(client, old.run_id)
        assert again.status == "FINISHED" and again.metrics == {"score": 2.25, "rows": 5}
        base = client.get_run(old.run_id).tags["loom.exp.base"]
        assert git("show", f"{base}:train.py") != git("show", "HEAD~1:train.py")
        assert again.params["train.lr"] == "0.25"
        train = client.search_runs(
            [again.experiment_id], f"tags.`mlflow.parentRunId` = '{old.run_id}'"
        ).items[0]

    # a stage run of it: that stage alone, with the data version it read
    staged = reproduce(ws, train.run_id)
    assert (staged.kind, staged.same) == ("stage", True)
    assert [m.key for m in staged.metrics] == ["rows", "score"]

    # the cache emptied: the data comes from the remote, or which object is where is said
    assert cli("remote", "add", "-d", "storage", str(tmp_path / "remote")).code == 0
    assert cli("push", "--all-commits").code == 0
    (tmp_path / "empty").mkdir()
    assert cli("remote", "add", "-d", "empty", str(tmp_path / "empty")).code == 0
    shutil.rmtree(ws.odb.root)
    r = loom_run("reproduce", old.run_id[:10], cwd=root)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    data = old_input(ws, old.run_id)
    assert f"in the cache at {ws.odb.root} or fetched from {tmp_path / 'empty'}" in r.stderr
    assert f"data: its folder listing (object {data}) is not on the remote" in r.stderr
    assert cli("remote", "default", "storage").code == 0
    r = loom_run("reproduce", "old", "--check", "--json", cwd=root)
    assert r.returncode == 0, r.stderr
    said = json.loads(r.stdout)
    assert said["same"] is True and said["kind"] == "experiment"
    assert {m["key"]: m["now"] for m in said["metrics"]} == {"score": 2.25, "rows": 5}
    assert git("worktree", "list").count("\n") == 1


RANDOM = f"""\
stages:
  roll:
    cmd: {PY} roll.py
    metrics: [m.json]
"""


def test_check_fails_when_the_rebuild_differs(ws) -> None:
    write(
        ws.root / "roll.py",
        "import json, random\njson.dump({'r': random.random()}, open('m.json', 'w'))\n",
    )
    write(ws.root / "loom.yaml", RANDOM)
    commit("a random metric")
    [stage] = repro(ws).stages
    r = loom_run("reproduce", stage.run_id, "--check", cwd=ws.root)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("Error:") == 1
    assert "1 metric(s) of the rebuild differ" in r.stderr and "--tolerance" in r.stderr
    header, row = r.stdout.splitlines()[-3:-1]
    assert header.split() == ["metric", "was", "now", "diff"] and row.split()[0] == "r"
    assert "different metrics" in r.stdout


def test_runs_that_cannot_be_reproduced_are_said_so(ws, cli) -> None:
    write(ws.root / "notes.txt", "no pipeline here\n")
    commit("no pipeline")
    with Client() as client:
        exp = client.get_or_create_experiment("pipelines").experiment_id
        bare = client.create_run(exp, name="bare", capture_env=False).run_id
        lost = client.create_run(exp, tags={"loom.git.commit": "ab" * 20}, capture_env=False)
        head = git("rev-parse", "HEAD").strip()
        here = client.create_run(exp, tags={"loom.git.commit": head}, capture_env=False)
    r = loom_run("reproduce", "0123456789abcdef", cwd=ws.root)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "No run with id '0123456789abcdef'" in r.stderr and "Hint:" in r.stderr
    for ref, words in [
        (bare, "has no git commit"),
        (lost.run_id, "is not in the git repository"),
        (here.run_id, "has no loom.yaml"),
    ]:
        said = cli("reproduce", ref)
        assert said.code == 1 and words in said.err and "Hint:" in said.err, said.err
    assert git("worktree", "list").count("\n") == 1


SLEEPER = f"""\
stages:
  nap:
    cmd: {PY} nap.py
"""


def test_ctrl_c_leaves_no_worktree(ws, tmp_path) -> None:
    mark = tmp_path / "started"
    write(ws.root / "nap.py", f"import time\nopen({str(mark)!r}, 'w').close()\ntime.sleep(60)\n")
    write(ws.root / "loom.yaml", SLEEPER)
    commit("a long stage")
    with Client() as client:
        exp = client.get_or_create_experiment("pipelines").experiment_id
        head = git("rev-parse", "HEAD").strip()
        run = client.create_run(exp, tags={"loom.git.commit": head}, capture_env=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "loom", "reproduce", run.run_id],
        cwd=ws.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: mark.exists() or proc.poll() is not None, timeout=60, what="the stage")
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Interrupted." in err and "Traceback" not in err, err
    assert git("worktree", "list").count("\n") == 1
    assert not list((ws.root / ".loom/tmp/reproduce").iterdir())
    with Client() as client:
        [again] = _reproductions(client, run.run_id)
        assert again.status == "KILLED"
