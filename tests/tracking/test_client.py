"""loom.Client against a real store, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest

from loom.errors import ConflictError, NotFoundError, ValidationError
from loom.objects.hashing import hash_bytes
from loom.store.entities import Metric, RunStatus, ViewType


def test_experiment_lifecycle(client) -> None:
    exp = client.create_experiment("exp-a", tags={"team": "nlp"})
    assert client.get_experiment_by_name("exp-a").experiment_id == exp.experiment_id
    client.rename_experiment(exp.experiment_id, "exp-b")
    assert client.experiment("exp-b").experiment_id == exp.experiment_id
    client.delete_experiment(exp.experiment_id)
    active = {e.name for e in client.list_experiments()}
    deleted = {e.name for e in client.list_experiments(ViewType.DELETED_ONLY)}
    assert "exp-b" not in active and "exp-b" in deleted
    client.restore_experiment(exp.experiment_id)
    assert "exp-b" in {e.name for e in client.list_experiments()}
    with pytest.raises(NotFoundError) as err:
        client.experiment("nope")
    assert "loom exp create nope" in err.value.hint


def test_params_metrics_tags_round_trip(client) -> None:
    exp = client.create_experiment("e")
    run = client.create_run(exp.experiment_id, name="r", tags={"stage": "dev"})
    client.log_params(run.run_id, {"lr": 0.001, "epochs": 10})
    for step in range(5):
        client.log_metric(run.run_id, "loss", 1.0 / (step + 1), step=step)
    client.log_metrics(run.run_id, {"nan": math.nan, "inf": -math.inf})
    client.set_tag(run.run_id, "status", "candidate")
    client.set_terminated(run.run_id)
    got = client.get_run(run.run_id)
    assert got.status == RunStatus.FINISHED and got.end_time
    assert got.params == {"lr": "0.001", "epochs": "10"}
    assert got.metrics["loss"] == pytest.approx(0.2)
    assert math.isnan(got.metrics["nan"]) and got.metrics["inf"] == -math.inf
    assert got.tags["status"] == "candidate" and got.tags["stage"] == "dev"
    assert got.tags["loom.pid"].isdigit() and got.tags["loom.host"]
    history = client.get_metric_history(run.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]


def test_param_conflict_raises_at_the_call_naming_both_values(client) -> None:
    run = client.create_run(client.create_experiment("e").experiment_id)
    client.log_param(run.run_id, "lr", 0.1)
    client.log_param(run.run_id, "lr", 0.1)  # same value again is fine
    with pytest.raises(ConflictError) as err:
        client.log_param(run.run_id, "lr", 0.2)
    assert "0.1" in err.value.message and "0.2" in err.value.message


def test_bad_metric_fails_at_the_call(client) -> None:
    run = client.create_run(client.create_experiment("e").experiment_id)
    with pytest.raises(ValidationError, match="not a number"):
        client.log_metric(run.run_id, "acc", "high")
    with pytest.raises(ValidationError, match=r"\.\."):
        client.log_metric(run.run_id, "a..b", 1.0)
    with pytest.raises(ValidationError, match="250"):
        client.log_metric(run.run_id, "k" * 251, 1.0)
    client.flush()  # nothing bad was buffered


def test_unknown_run_is_not_found(client) -> None:
    with pytest.raises(NotFoundError):
        client.get_run("0" * 32)
    with pytest.raises(NotFoundError):
        client.resolve_run_id("abcdef")


def test_run_id_prefix_resolves(client) -> None:
    exp = client.create_experiment("e")
    run = client.create_run(exp.experiment_id)
    assert client.resolve_run_id(run.run_id[:8]) == run.run_id
    assert client.resolve_run_id(run.run_id) == run.run_id


def test_search_with_filter_order_and_pages(client) -> None:
    exp = client.create_experiment("e")
    for i in range(5):
        run = client.create_run(exp.experiment_id, name=f"r{i}")
        client.log_params(run.run_id, {"lr": "0.001" if i % 2 == 0 else "0.01"})
        client.log_metric(run.run_id, "recall", i / 10)
    page = client.search_runs(
        [exp.experiment_id],
        "metrics.recall > 0.05 and params.lr = '0.001'",
        order_by=["metrics.recall DESC"],
    )
    assert [r.name for r in page.items] == ["r4", "r2"]
    first = client.search_runs([exp.experiment_id], order_by=["attributes.run_name"], max_results=3)
    rest = client.search_runs(
        [exp.experiment_id],
        order_by=["attributes.run_name"],
        max_results=3,
        page_token=first.next_page_token,
    )
    assert [r.name for r in first.items + rest.items] == [f"r{i}" for i in range(5)]


def test_delete_and_restore_run(client) -> None:
    exp = client.create_experiment("e")
    run = client.create_run(exp.experiment_id)
    client.delete_run(run.run_id)
    assert client.search_runs([exp.experiment_id]).items == []
    client.restore_run(run.run_id)
    assert [r.run_id for r in client.search_runs([exp.experiment_id]).items] == [run.run_id]


def test_artifacts_dedupe_and_download(client, tmp_path: Path) -> None:
    run = client.create_run(client.create_experiment("e").experiment_id)
    reports = tmp_path / "reports"
    (reports / "sub").mkdir(parents=True)
    (reports / "a.txt").write_text("same bytes")
    (reports / "sub" / "b.txt").write_text("same bytes")
    (tmp_path / "config.yaml").write_text("lr: 0.1\n")
    client.log_artifact(run.run_id, tmp_path / "config.yaml")
    arts = client.log_artifacts(run.run_id, reports, artifact_path="reports")
    assert {a.path for a in arts} == {"reports/a.txt", "reports/sub/b.txt"}
    assert arts[0].hash == arts[1].hash  # identical files: one object
    odb = client.backend.odb
    # two file objects, plus the folder's listing that its output names
    (folder,) = [o for o in client.list_outputs(run.run_id) if o.kind == "directory"]
    assert set(odb.iter_oids()) == {arts[0].hash, hash_bytes(b"lr: 0.1\n"), folder.hash}
    listed = {a.path for a in client.list_artifacts(run.run_id)}
    assert listed == {"config.yaml", "reports/a.txt", "reports/sub/b.txt"}
    out = client.download_artifacts(run.run_id, "reports", tmp_path / "dl")
    assert (out / "sub" / "b.txt").read_text() == "same bytes"
    assert (tmp_path / "dl" / "reports" / "a.txt").read_text() == "same bytes"
    with pytest.raises(NotFoundError, match="no artifact"):
        client.download_artifacts(run.run_id, "missing", tmp_path / "dl2")


def test_artifact_paths_that_escape_are_refused(tmp_path: Path) -> None:
    from loom.tracking.client import Client

    f = tmp_path / "f.txt"
    f.write_text("x")
    with Client(f"sqlite:///{tmp_path / 'a.db'}") as client:
        run = client.create_run(client.create_experiment("e").experiment_id)
        for bad in ["../escape", "/abs", "a\\b", "a/\x00", "a/../../b"]:
            with pytest.raises(ValidationError):
                client.log_artifact(run.run_id, f, artifact_path=bad)
            with pytest.raises(ValidationError):
                client.download_artifacts(run.run_id, bad, tmp_path / "dl")
        assert client.list_artifacts(run.run_id) == []


def test_log_input_records_the_data_version(client, git_repo: Path) -> None:
    import subprocess

    data = git_repo / "data" / "train"
    data.mkdir(parents=True)
    (data / "part-0.csv").write_text("a,b\n1,2\n")
    (data / "part-1.csv").write_text("a,b\n3,4\n")
    subprocess.run(["git", "add", "."], check=True)
    subprocess.run(["git", "commit", "-qm", "data"], check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    run = client.create_run(client.create_experiment("e").experiment_id)
    version = client.log_input(run.run_id, "data/train")
    assert version.kind == "directory" and version.git_rev == head.strip()
    assert version.size == 16 and len(version.hash) == 64
    (inp,) = client.get_run(run.run_id).inputs
    assert (inp.path, inp.hash, inp.git_rev) == ("data/train", version.hash, head.strip())
    (data / "part-1.csv").write_text("a,b\n3,5\n")
    assert client.log_input(run.run_id, "data/train").hash != version.hash
    with pytest.raises(NotFoundError):
        client.log_input(run.run_id, "data/missing")


def test_buffered_tag_never_overwrites_a_later_synchronous_one(client) -> None:
    run = client.create_run(client.create_experiment("e").experiment_id)
    client.set_tag(run.run_id, "stage", "old")  # buffered
    client.log_batch(run.run_id, params={"lr": 1}, tags={"stage": "new"})  # written now
    client.flush()
    assert client.get_run(run.run_id).tags["stage"] == "new"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"value": 1.0, "step": 1.5}, "step 1.5"),
        ({"value": 1.0, "step": Fraction(1, 3)}, "step"),
        ({"value": 1.0, "step": 2**63}, "64 bits"),
        ({"value": 1.0, "step": "3"}, "step '3'"),
        ({"value": 1.0, "timestamp": 1.7e12 + 0.5}, "timestamp"),
        ({"value": 10**400}, "too large"),
        ({"value": -(10**400)}, "too large"),
    ],
)
def test_a_value_the_store_cant_keep_exactly_is_refused_at_the_call(
    client, kwargs: dict, needle: str
) -> None:
    run = client.create_run(client.create_experiment("e").experiment_id)
    with pytest.raises(ValidationError) as err:
        client.log_metric(run.run_id, "loss", **kwargs)
    assert needle in err.value.message and "'loss'" in err.value.message
    with pytest.raises(ValidationError):  # log_batch's metrics too, not later in the flusher
        bad = Metric("loss", kwargs["value"], kwargs.get("timestamp", 0), kwargs.get("step", 0))
        client.log_batch(run.run_id, [bad])
    client.flush()
    assert client.get_run(run.run_id).metrics == {}  # nothing was buffered


def test_integral_steps_pass_as_ints(client) -> None:
    run = client.create_run(client.create_experiment("e").experiment_id)
    client.log_metric(run.run_id, "loss", 0.5, step=2.0)
    client.log_metric(run.run_id, "loss", 0.4, step=Fraction(6, 2), timestamp=1_700_000_000_000.0)
    client.log_metric(run.run_id, "loss", 10**300, step=2**63 - 1)  # a big int is a float
    client.log_batch(run.run_id, [Metric("acc", 1, 5, 4.0)])
    history = client.get_metric_history(run.run_id, "loss")
    assert [(m.step, type(m.step)) for m in history] == [(2, int), (3, int), (2**63 - 1, int)]
    assert history[1].timestamp == 1_700_000_000_000 and history[2].value == 1e300
    assert client.get_metric_history(run.run_id, "acc")[0].step == 4


def test_fluent_log_metric_refuses_a_fractional_step(client) -> None:
    import loom

    loom.set_tracking_uri(client.tracking_uri)
    with loom.start_run(), pytest.raises(ValidationError, match=r"step 1\.5"):
        loom.log_metric("loss", 0.5, step=1.5)


def test_search_runs_resolves_experiment_names(client) -> None:
    exp = client.create_experiment("by-name")
    other = client.create_experiment("12345x")
    run = client.create_run(exp.experiment_id)
    client.create_run(other.experiment_id)
    assert [r.run_id for r in client.search_runs(["by-name"]).items] == [run.run_id]
    assert [r.run_id for r in client.search_runs("by-name").items] == [run.run_id]
    assert len(client.search_runs([exp.experiment_id, "12345x"]).items) == 2
    with pytest.raises(NotFoundError) as err:
        client.search_runs(["no-such-experiment"])
    assert "loom exp list" in err.value.hint
