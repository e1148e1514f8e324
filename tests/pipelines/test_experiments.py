"""``loom exp run`` (in the workspace, ``--queue``, ``--run-all -j N``) and ``loom exp show``:
real stages, a real git repository, the real CLI in a subprocess for what a user types."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

from loom.lineage import trace
from loom.pipelines import lock
from loom.pipelines.experiments import queue
from loom.pipelines.experiments.run import enqueue, run_in_workspace
from loom.pipelines.repro import repro
from loom.tracking.client import Client
from tests.conftest import wait_for
from tests.data.conftest import loom_run, snapshot

from .conftest import TRAIN, alive, clear_log, commit, git, ran, write


def _exp_runs(client: Client) -> dict:
    exp = client.experiment("pipelines")
    runs = client.search_runs([exp.experiment_id], "tags.`loom.exp` = '1'").items
    return {r.name: r for r in runs}


def _files(snap: dict[str, bytes]) -> dict[str, bytes]:
    """The user's files: not Loom's or git's own (refs, the cache, the store)."""
    return {k: v for k, v in snap.items() if not k.startswith((".loom/", ".git/"))}


def _children(client: Client, run) -> dict:
    found = client.search_runs(
        [run.experiment_id], f"tags.`mlflow.parentRunId` = '{run.run_id}'"
    ).items
    return {r.tags["loom.stage"]: r for r in found}


def test_exp_run_sets_the_param_runs_what_it_affects_and_records_an_experiment(
    project, cli
) -> None:
    root = project.root
    repro(project)
    clear_log(root)
    head = git("rev-parse", "HEAD").strip()

    r = loom_run("exp", "run", "-S", "train.lr=0.02", "--name", "lr2", "--json", cwd=root)
    assert r.returncode == 0, r.stderr
    said = json.loads(r.stdout)
    assert (said["name"], said["status"]) == ("lr2", "FINISHED")
    assert said["metrics"]["loss"] == 0.98
    assert ran(root) == ["train", "evaluate val", "evaluate test"]  # not prepare
    assert (
        root / "params.yaml"
    ).read_text() == "prepare:\n  split: 0.2\ntrain:\n  lr: 0.02\n  epochs: 3\n"

    with Client() as client:
        exp = _exp_runs(client)["lr2"]
        assert exp.status == "FINISHED"
        assert json.loads(exp.tags["loom.exp.overrides"]) == ["params.yaml:train.lr=0.02"]
        assert exp.tags["loom.git.commit"] == head
        base = exp.tags["loom.exp.base"]  # HEAD plus the uncommitted changes: kept by a ref
        assert git("rev-parse", f"refs/loom/exps/runs/{exp.run_id}").strip() == base
        assert exp.params == {"prepare.split": "0.2", "train.lr": "0.02", "train.epochs": "3"}
        assert exp.metrics["loss"] == 0.98 and exp.metrics["eval.acc"] == 0.52
        assert exp.metrics["eval/val.json:score"] == len("model lr=0.02 files=5\n") + 3
        locked = lock.read(root)
        inputs = {i.path: i.hash for i in exp.inputs}
        assert inputs["data/raw"] == locked["prepare"].deps[0].hash
        assert "data/processed" not in inputs  # a stage makes it: not an input of the pipeline
        logged = client.download_artifacts(exp.run_id, "loom/loom.lock", root / "dl")
        assert logged.read_text() == (root / "loom.lock").read_text()

        children = _children(client, exp)  # the stage runs this repro recorded
        assert set(children) == {"train", "evaluate@val", "evaluate@test"}
        train = children["train"]
        assert train.params["train.lr"] == "0.02"
        g = trace(client, train.run_id)
    edges = {(e.source, e.target, e.kind) for e in g.edges}
    model = lock.read(root)["train"].outs[0].hash
    assert (f"run:{train.run_id}", f"data:{model}", "produced") in edges
    assert cli("lineage", train.run_id).code == 0

    # switching back is a run cache restore: no command runs
    clear_log(root)
    back = run_in_workspace(project, ["params.yaml:train.lr=0.01"], name="back")
    assert back.status == "FINISHED" and back.metrics["loss"] == 0.99
    assert ran(root) == []
    assert [s.action for s in back.stages.stages] == ["skipped", *["restored"] * 3]


def test_a_bad_override_is_refused_before_anything_runs(project, cli) -> None:
    root = project.root
    before = (root / "params.yaml").read_bytes()
    r = loom_run("exp", "run", "-S", "train.lr=0.5", "-S", "train.nope=1", cwd=root)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.count("Error:") == 1 and "Hint:" in r.stderr, r.stderr
    assert "'train.nope' is not in params.yaml" in r.stderr
    for args, words in [
        (["-S", "other.yaml:train.lr=1"], "other.yaml does not exist"),
        (["-S", "train.lr", "--queue"], "is not FILE:KEY=VALUE"),
        (["--run-all", "-S", "train.lr=1"], "--run-all runs what is queued"),
    ]:
        said = cli("exp", "run", *args)
        assert said.code == 1 and words in said.err and "Hint:" in said.err, (args, said.err)
    assert (root / "params.yaml").read_bytes() == before
    assert ran(root) == [] and not (root / "loom.lock").exists()
    assert not queue.entries(project)


BARRIER = """\
import os, sys, time, yaml
lr = yaml.safe_load(open("params.yaml"))["train"]["lr"]
if lr >= 1:
    sys.exit(f"lr {lr} is too large")
# each parallel experiment says it started, then waits for the other one
top = BARRIER_DIR
open(os.path.join(top, f"{lr}.start"), "w").close()
deadline = time.monotonic() + 60
while len([n for n in os.listdir(top) if n.endswith(".start")]) < 2:
    if time.monotonic() > deadline:
        sys.exit("the other experiment never started: not in parallel")
    time.sleep(0.02)
"""


def test_queued_experiments_run_side_by_side_in_worktrees(project, tmp_path, cli) -> None:
    root = project.root
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    write(root / "src/train.py", BARRIER.replace("BARRIER_DIR", repr(str(barrier))) + TRAIN)
    commit("train waits for its twin")
    repro(project, ["prepare"])
    r = loom_run("exp", "run", "--queue", "-S", "train.lr=0.2", "-n", "a", cwd=root)
    assert r.returncode == 0 and "Queued experiment a" in r.stdout, r.stderr
    assert enqueue(project, ["train.lr=0.3"], name="b").status == "QUEUED"
    enqueue(project, ["train.lr=5"], name="bad")
    assert [q.name for q in queue.entries(project)] == ["a", "b", "bad"]
    shown = json.loads(cli("exp", "show", "--json").out)
    assert [(e["name"], e["status"]) for e in shown] == [
        ("bad", "QUEUED"),
        ("b", "QUEUED"),
        ("a", "QUEUED"),
    ]
    clear_log(root)
    before = snapshot(root)

    r = loom_run("exp", "run", "--run-all", "-j", "2", cwd=root)

    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert "1 of 3 experiments failed: bad" in r.stderr and "lr 5 is too large" in r.stderr
    lines = r.stdout.splitlines()
    assert "[a] trained with lr 0.2" in lines and "[b] trained with lr 0.3" in lines
    assert all(re.match(r"\[(a|b|bad)\] ", line) for line in lines if line.startswith("["))
    # the main workspace is as it was: params, outs, lock and all
    assert _files(snapshot(root)) == _files(before)
    assert ran(root) == []
    assert git("worktree", "list").count("\n") == 1
    assert not list((root / ".loom/tmp/exps").iterdir())
    assert not queue.entries(project) and "queue/" not in git("for-each-ref", "refs/loom")

    with Client() as client:
        exps = _exp_runs(client)
        assert {n: r.status for n, r in exps.items()} == {
            "a": "FINISHED",
            "b": "FINISHED",
            "bad": "FAILED",
        }
        assert exps["a"].metrics["loss"] == 0.8 and exps["b"].metrics["loss"] == 0.7
        assert "lr 5 is too large" in exps["bad"].tags["loom.exp.error"]
        for name in ("a", "b"):
            assert set(_children(client, exps[name])) >= {"train"}
            logged = client.download_artifacts(exps[name].run_id, "loom/loom.lock", tmp_path / name)
            outs = [o for s in lock.parse(logged.read_text()).values() for o in s.outs if o.cache]
            assert outs and not project.odb.missing([o.hash for o in outs])  # the shared cache
    assert sorted(n.removesuffix(".start") for n in (p.name for p in barrier.iterdir())) == [
        "0.2",
        "0.3",
    ]


def test_exp_show_lists_what_differs(project, cli) -> None:
    root = project.root
    run_in_workspace(project, ["train.lr=0.02"], name="first")
    run_in_workspace(project, ["train.lr=0.04"], name="second")
    enqueue(project, ["train.epochs=7"], name="later")

    r = loom_run("exp", "show", cwd=root)  # piped: plain columns
    assert r.returncode == 0, r.stderr
    header, *rows = r.stdout.splitlines()
    assert header.split() == [
        "experiment",
        "status",
        "created",
        "commit",
        "train.epochs",  # set by -S in an experiment
        "train.lr",  # differs
        "eval.acc",
        "eval/test.json:score",
        "eval/val.json:score",
        "loss",
    ]
    head = git("rev-parse", "--short=7", "HEAD").strip()
    assert [row.split()[:2] for row in rows] == [
        ["later", "QUEUED"],
        ["second", "FINISHED"],
        ["first", "FINISHED"],
    ]
    later, second, first = (row.split() for row in rows)
    assert later[4:] == [head, "7"]
    assert second[4:] == [head, "3", "0.04", "0.54", "26", "25", "0.96"]
    assert first[4:] == [head, "3", "0.02", "0.52", "26", "25", "0.98"]

    [queued, second, first] = json.loads(cli("exp", "show", "--json").out)
    assert queued["params"] == {"train.epochs": "7"} and queued["metrics"] == {}
    assert second["metrics"]["loss"] == 0.96 and second["params"]["train.lr"] == "0.04"
    assert first["overrides"] == ["params.yaml:train.lr=0.02"]
    assert set(first["deps"]) == {"data/raw", "src/prepare.py", "src/train.py"}
    assert first["commit"] == git("rev-parse", "HEAD").strip()


HANG = """\
import os, time, yaml
lr = yaml.safe_load(open("params.yaml"))["train"]["lr"]
open(os.path.join(MARK_DIR, f"{lr}.{os.getpid()}"), "w").close()
time.sleep(300)
"""


def test_ctrl_c_during_run_all_kills_the_running_one_and_keeps_the_rest_queued(
    project, tmp_path
) -> None:
    root = project.root
    marks = tmp_path / "marks"
    marks.mkdir()
    write(root / "src/train.py", HANG.replace("MARK_DIR", repr(str(marks))) + TRAIN)
    commit("train hangs")
    repro(project, ["prepare"])
    enqueue(project, ["train.lr=0.2"], name="first")
    enqueue(project, ["train.lr=0.3"], name="second")
    proc = subprocess.Popen(
        [sys.executable, "-m", "loom", "exp", "run", "--run-all", "-j", "1"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: any(marks.iterdir()) or proc.poll() is not None, what="a stage")
        assert proc.poll() is None, proc.communicate()
        stage = int(next(marks.iterdir()).name.split(".")[-1])
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    wait_for(lambda: not alive(stage), what="the stage to be killed")
    assert git("worktree", "list").count("\n") == 1  # its worktree is gone
    assert not list((root / ".loom/tmp/exps").iterdir())
    assert [q.name for q in queue.entries(project)] == ["second"]  # never started: queued
    with Client() as client:
        assert _exp_runs(client)["first"].status == "KILLED"
