"""`loom exp …`, `loom runs …`, `loom db upgrade`: output, --json, errors with hints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loom.cli.main import run as loom_run
from loom.store.entities import RunStatus


@pytest.fixture
def uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOOM_CAPTURE_ENV", "0")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("LOOM_TRACKING_URI", uri)
    return uri


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = loom_run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _runs(uri: str, tmp_path: Path) -> list[str]:
    from loom.tracking.client import Client

    (tmp_path / "art.txt").write_text("artifact\n")
    ids = []
    with Client(uri) as c:
        exp = c.create_experiment("rag").experiment_id
        for i, (lr, recall) in enumerate([("0.001", 0.9), ("0.01", 0.95), ("0.001", 0.8)]):
            run = c.create_run(exp, name=f"exp-{i}")
            c.log_params(run.run_id, {"learning_rate": lr, "epochs": 10})
            c.log_metrics(run.run_id, {"recall_at_10": recall})
            c.log_artifact(run.run_id, tmp_path / "art.txt", "out")
            c.set_terminated(run.run_id)
            ids.append(run.run_id)
    return ids


def test_exp_commands(uri: str, capsys) -> None:
    assert cli(capsys, "exp", "create", "alpha")[0] == 0
    code, out, _ = cli(capsys, "exp", "list", "--json")
    assert code == 0 and [e["name"] for e in json.loads(out)] == ["Default", "alpha"]
    assert cli(capsys, "exp", "rename", "alpha", "beta")[0] == 0
    assert cli(capsys, "exp", "delete", "beta")[0] == 0
    assert [e["name"] for e in json.loads(cli(capsys, "exp", "list", "--json")[1])] == ["Default"]
    deleted = json.loads(cli(capsys, "exp", "list", "--deleted", "--json")[1])
    assert [e["name"] for e in deleted] == ["beta"]
    assert cli(capsys, "exp", "restore", "beta")[0] == 0
    code, out, _ = cli(capsys, "exp", "list")
    assert code == 0 and "beta" in out
    code, _, err = cli(capsys, "exp", "create", "beta")
    assert code == 1 and "beta" in err and "Traceback" not in err


def test_runs_list_filter_order(uri: str, capsys, tmp_path: Path) -> None:
    ids = _runs(uri, tmp_path)
    code, out, _ = cli(
        capsys,
        "runs", "list", "-e", "rag",
        "--filter", "metrics.recall_at_10 > 0.85 and params.learning_rate = '0.001'",
        "--order-by", "metrics.recall_at_10 DESC", "--json",
    )  # fmt: skip
    assert code == 0
    assert [r["run_id"] for r in json.loads(out)["runs"]] == [ids[0]]
    code, out, _ = cli(capsys, "runs", "list", "-e", "rag", "--order-by", "metrics.recall_at_10")
    assert code == 0 and out.index("exp-2") < out.index("exp-0") < out.index("exp-1")
    every = json.loads(cli(capsys, "runs", "list", "--json")[1])["runs"]  # all experiments
    assert sorted(r["run_id"] for r in every) == sorted(ids)


def test_runs_show_compare_artifacts(uri: str, capsys, tmp_path: Path) -> None:
    ids = _runs(uri, tmp_path)
    code, out, _ = cli(capsys, "runs", "show", ids[1][:8], "--json")
    shown = json.loads(out)
    assert code == 0 and shown["params"]["learning_rate"] == "0.01"
    assert shown["metrics"] == {"recall_at_10": 0.95} and "loom.pid" in shown["environment"]
    assert [a["path"] for a in shown["artifacts"]] == ["out/art.txt"]
    code, out, _ = cli(capsys, "runs", "show", ids[1])
    assert code == 0 and "learning_rate" in out and "out/art.txt" in out
    code, out, _ = cli(capsys, "runs", "compare", ids[0], ids[1], "--json")
    rows = {r["key"]: r for r in json.loads(out)["rows"]}
    assert rows["params.learning_rate"]["differs"] and not rows["params.epochs"]["differs"]
    assert rows["params.learning_rate"]["values"] == ["0.001", "0.01"]
    assert cli(capsys, "runs", "compare", ids[0], ids[1], ids[2])[0] == 0
    code, out, _ = cli(capsys, "runs", "artifacts", ids[0], "--json")
    assert [a["path"] for a in json.loads(out)] == ["out/art.txt"]
    dst = tmp_path / "dl"
    assert cli(capsys, "runs", "artifacts", ids[0], "--download", str(dst))[0] == 0
    assert (dst / "out" / "art.txt").read_text() == "artifact\n"


def test_runs_delete_restore_and_mark_stale(uri: str, capsys, tmp_path: Path) -> None:
    from loom.tracking.client import Client

    ids = _runs(uri, tmp_path)
    assert cli(capsys, "runs", "delete", ids[0])[0] == 0
    listed = json.loads(cli(capsys, "runs", "list", "-e", "rag", "--json")[1])["runs"]
    assert ids[0] not in {r["run_id"] for r in listed}
    assert cli(capsys, "runs", "restore", ids[0])[0] == 0
    listed = json.loads(cli(capsys, "runs", "list", "-e", "rag", "--json")[1])["runs"]
    assert ids[0] in {r["run_id"] for r in listed}
    # A run whose process is gone: a finished child process started it.
    code = "import loom, os; r = loom.start_run(); print(r.run_id); os._exit(0)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    orphan = out.stdout.strip()
    code_, out_, _ = cli(capsys, "runs", "mark-stale", "--json")
    assert code_ == 0 and json.loads(out_) == [orphan]
    with Client(uri) as c:
        assert c.get_run(orphan).status == RunStatus.KILLED


def test_db_upgrade(uri: str, capsys) -> None:
    code, out, _ = cli(capsys, "db", "upgrade")
    assert code == 0 and "up to date" in out and uri in out


@pytest.mark.parametrize("group", [["exp"], ["runs"], ["runs", "compare"], ["db"]])
def test_help_everywhere(capsys, group: list[str]) -> None:
    code, out, _ = cli(capsys, *group, "--help")
    assert code == 0 and "Usage" in out


@pytest.mark.parametrize(
    ("args", "needle", "hint"),
    [
        (["runs", "show", "0123456789abcdef0123456789abcdef"], "0123456789abcdef", "loom runs"),
        (["runs", "list", "-e", "nope"], "nope", "loom exp"),
        (["runs", "list", "-e", "rag", "--filter", "metrics.x >>> 1"], "metrics.x", ""),
        (["runs", "list", "-e", "rag", "--order-by", "colour.x"], "colour", ""),
    ],
)
def test_bad_input_is_message_and_hint_without_traceback(
    uri: str, capsys, tmp_path: Path, args: list[str], needle: str, hint: str
) -> None:
    _runs(uri, tmp_path)
    code, _, err = cli(capsys, *args)
    assert code == 1 and "Error:" in err and needle in err and "Traceback" not in err
    assert "Hint:" in err and hint in err


def test_subprocess_help_and_error(uri: str) -> None:
    run = [sys.executable, "-m", "loom"]
    out = subprocess.run([*run, "runs", "list", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--order-by" in out.stdout
    out = subprocess.run([*run, "runs", "show", "abcdef12"], capture_output=True, text=True)
    assert out.returncode == 1 and "Traceback" not in out.stderr and "Hint:" in out.stderr


def test_runs_list_never_cuts_an_id_below_its_unique_prefix(uri: str, capsys) -> None:
    from loom.store import open_store

    store = open_store(uri)
    exp = store.create_experiment("twins").experiment_id
    twins = ["abcdef12" + "0" * 24, "abcdef12" + "0" * 4 + "1" + "0" * 19]
    lone = "12345678" + "f" * 24
    for run_id in [*twins, lone]:
        store.create_run(exp, run_id=run_id, name=f"run-{run_id[-1]}")
    store.close()
    code, out, _ = cli(capsys, "runs", "list", "-e", "twins")
    assert code == 0
    shown = {line.split("│")[1].strip() for line in out.splitlines() if "run-" in line}
    assert shown == {"abcdef1200000", "abcdef1200001", "12345678"}
    code, out, _ = cli(capsys, "runs", "compare", *twins)
    assert code == 0 and "abcdef1200000" in out and "abcdef1200001" in out
    for prefix in shown:  # each prefix shown resolves to its run
        assert cli(capsys, "runs", "show", prefix, "--json")[0] == 0
