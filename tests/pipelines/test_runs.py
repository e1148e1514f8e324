"""Every stage execution is a Loom run: params, metrics from its metrics files, deps as inputs,
outs as outputs, the git commit, the output tails; ``loom.start_run()`` in a stage logs there."""

from __future__ import annotations

import pytest

from loom.data.api import info
from loom.pipelines import lock
from loom.pipelines.repro import repro
from loom.tracking.client import Client

from .conftest import TRAIN, git, write

NESTED = (
    TRAIN
    + """\
import loom
loom.set_experiment("somewhere-else")  # ignored: the stage's run is the one
with loom.start_run(name="mine"):
    loom.log_param("batch_size", 32)
    loom.log_metric("inner_loss", 0.25, step=2)
loom.log_metric("after_block", 1.0)
"""
)


def _runs(client: Client) -> dict:
    exp = client.experiment("pipelines")
    runs = client.search_runs([exp.experiment_id]).items
    return {r.tags["loom.stage"]: r for r in runs}


def _check_train_run(root, run, client: Client) -> None:
    locked = lock.read(root)["train"]
    assert run.status == "FINISHED" and run.name == "train"
    assert run.params == {"train.lr": "0.01", "train.epochs": "3"} | {
        k: v for k, v in run.params.items() if k == "batch_size"
    }
    assert run.metrics["loss"] == 0.99 and run.metrics["eval.acc"] == 0.51
    assert run.tags["loom.git.commit"] == git("rev-parse", "HEAD").strip()
    inputs = {i.path: i for i in run.inputs}
    assert {p: i.hash for p, i in inputs.items()} == {d.path: d.hash for d in locked.deps}
    assert inputs["data/processed"].kind == "directory"
    assert inputs["data/processed"].hash == info("data/processed").hash
    outputs = {o.path: (o.hash, o.kind) for o in client.list_outputs(run.run_id)}
    assert outputs == {o.path: (o.hash, "file") for o in locked.outs}
    out = client.download_artifacts(run.run_id, "loom/stdout.txt", root / "dl")
    assert "trained with lr 0.01" in out.read_text()


def test_each_stage_is_a_run(project) -> None:
    root = project.root
    repro(project)
    with Client() as client:
        runs = _runs(client)
        assert set(runs) == {"prepare", "train", "evaluate@val", "evaluate@test"}
        _check_train_run(root, runs["train"], client)
        assert runs["evaluate@val"].metrics == {"score": len("model lr=0.01 files=5\n") + 3}
        assert runs["prepare"].params == {"prepare.split": "0.2"}
        assert runs["train"].tags["loom.stage.cmd"].endswith("src/train.py")


def test_start_run_in_a_stage_logs_into_the_stage_run(project) -> None:
    root = project.root
    write(root / "src/train.py", NESTED)
    repro(project, ["train"])
    with Client() as client:
        runs = _runs(client)
        assert set(runs) == {"prepare", "train"}  # no third, unrelated run
        train = runs["train"]
        assert train.params["batch_size"] == "32"
        assert train.metrics["inner_loss"] == 0.25 and train.metrics["after_block"] == 1.0
        assert train.metrics["loss"] == 0.99  # and the pipeline's own
        assert train.status == "FINISHED"  # the script's block did not end it
        assert (
            client.get_experiment_by_name("somewhere-else") is None
            or not client.search_runs([client.experiment("somewhere-else").experiment_id]).items
        )
        assert [m.step for m in client.get_metric_history(train.run_id, "inner_loss")] == [2]


@pytest.mark.postgres
def test_stage_runs_on_postgresql(project, pg_store_uri, monkeypatch) -> None:
    monkeypatch.setenv("LOOM_TRACKING_URI", pg_store_uri)
    root = project.root
    write(root / "src/train.py", NESTED)
    repro(project)
    with Client(pg_store_uri) as client:
        runs = _runs(client)
        assert set(runs) == {"prepare", "train", "evaluate@val", "evaluate@test"}
        _check_train_run(root, runs["train"], client)
        assert runs["train"].metrics["inner_loss"] == 0.25
    assert not (root / ".loom/loom.db").exists()  # nothing went to the workspace's SQLite
