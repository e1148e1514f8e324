"""`loom lineage TARGET [--json | --mermaid] [--depth N] [--rev REV]` through the real CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.data.conftest import write

CHECKER = Path(__file__).with_name("mermaid_check.mjs")
_NODE = re.compile(r'    (n\d+)(\(|\[\(|\{\{)"([^"\n]*)"(\)|\)\]|\}\})')
_SHAPES = {"(": ")", "[(": ")]", "{{": "}}"}
_EDGE = re.compile(r"    (n\d+) -->\|([^|\"\n]+)\| (n\d+)")
_CLASS = re.compile(r"    (classDef [a-z]+ [a-z#0-9:,-]+|class (n\d+,)*n\d+ [a-z]+|style n\d+ \S+)")


def _two_runs(client, tmp_path: Path) -> tuple[str, str]:
    exp = client.get_or_create_experiment("e").experiment_id
    a = client.create_run(exp, name='prep "v2" <b>#1</b> | a&b').run_id
    folder = write(tmp_path / 'we"ird #1|x' / "part.csv", "x\n1\n").parent
    client.log_artifacts(a, folder)
    b = client.create_run(exp, name="train").run_id
    client.log_input(b, folder)
    return a, b


def check_flowchart(text: str) -> None:
    """The subset of Mermaid's flowchart grammar the renderer writes, held strictly."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    declared: set[str] = set()
    for line in lines[1:]:
        node, edge = _NODE.fullmatch(line), _EDGE.fullmatch(line)
        if node:
            assert _SHAPES[node[2]] == node[4], line
            declared.add(node[1])
        elif edge:
            assert {edge[1], edge[3]} <= declared, line  # nodes come first
        else:
            assert _CLASS.fullmatch(line), f"not flowchart syntax: {line!r}"


def _real_mermaid(text: str, tmp_path: Path) -> None:
    """The real parser, where a folder with `npm install mermaid@11 jsdom` is named."""
    where = os.environ.get("LOOM_TEST_MERMAID")
    if not where or shutil.which("node") is None:
        pytest.skip("set LOOM_TEST_MERMAID to a folder with mermaid and jsdom installed by npm")
    chart = tmp_path / "chart.mmd"
    chart.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        ["node", str(CHECKER), where, str(chart)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mermaid_output_is_a_valid_flowchart(client, cli, tmp_path: Path) -> None:
    _a, b = _two_runs(client, tmp_path)
    res = cli("lineage", b, "--mermaid", "--tracking-uri", client.tracking_uri)
    assert res.code == 0, res.err
    check_flowchart(res.out.rstrip("\n"))
    assert "#quot;v2#quot; #lt;b#gt;#35;1#lt;/b#gt; #124; a#amp;b" in res.out  # escaped
    assert res.out.count(" -->|") == 2
    _real_mermaid(res.out, tmp_path)


def test_json_output_is_the_graph(client, cli, tmp_path: Path) -> None:
    a, _b = _two_runs(client, tmp_path)
    res = cli("lineage", a[:8], "--json", "--tracking-uri", client.tracking_uri)
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["roots"] == [f"run:{a}"] and doc["depth"] == 10
    kinds = sorted(
        (e["kind"], e["from"].split(":")[0], e["to"].split(":")[0]) for e in doc["edges"]
    )
    assert kinds == [("consumed", "data", "run"), ("produced", "run", "data")]
    (data,) = [n for n in doc["nodes"] if n["kind"] == "data"]
    assert data["attrs"]["kind"] == "directory" and data["label"] == 'we"ird #1|x'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-thing"], "not a model URI, a run id, nor a data path"),
        (["RUN", "--rev", "HEAD"], "--rev applies to data paths"),
        (["RUN", "--depth", "0"], "--depth must be at least 1"),
        (["RUN", "--json", "--mermaid"], "choose one"),
    ],
)
def test_bad_targets_and_options_are_one_clear_error(
    client, cli, args, message, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run = client.create_run(client.get_or_create_experiment("e").experiment_id).run_id
    args = [run if a == "RUN" else a for a in args]
    res = cli("lineage", *args, "--tracking-uri", client.tracking_uri)
    assert res.code != 0
    assert message in res.err and "Traceback" not in res.err


# -- loom models at / diff ----------------------------------------------------------


@pytest.fixture
def promoted(client):
    """rag v1 (recall 0.92, data/raw) in production from March 1st, v2 (0.95) from March
    20th; dated through the store's `time=`, as an import of history is."""
    from loom.store.entities import RunInput
    from loom.timeparse import parse_time

    exp = client.get_or_create_experiment("e").experiment_id
    runs = []
    for i, recall in enumerate((0.92, 0.95)):
        run = client.create_run(exp, name=f"train-{i}").run_id
        client.log_metric(run, "recall_at_10", recall)
        client.log_param(run, "lr", str(0.1 / (i + 1)))
        client.set_tag(run, "loom.git.commit", f"{i}" * 40)
        client.log_inputs(run, [RunInput("data/raw", f"{i}a" * 32, 10, "directory", "c0ffee")])
        client.set_terminated(run)
        client.create_model_version("rag", f"runs:/{run}/model", f"{i}b" * 32, run_id=run)
        runs.append(run)
    store = client.backend.store
    for version, day in ((1, "2026-03-01T10:00"), (2, "2026-03-20T09:00")):
        store.set_registered_model_alias(
            "rag", "production", version, f"v{version}", user="alice", time=parse_time(day)
        )
    return runs


def test_models_at_answers_the_seeds_question(client, cli, promoted) -> None:
    uri = ("--tracking-uri", client.tracking_uri)
    res = cli("models", "at", "rag", "production", "2026-03-15", "--metric", "recall_at_10", *uri)
    assert res.code == 0, res.err
    lines = res.out.splitlines()
    assert lines[0] == "rag@production at 2026-03-15 23:59:59: version 1"
    assert "held since 2026-03-01 10:00:00 by alice: v1" in lines[1]
    assert f"train-0 {promoted[0]}" in res.out and "0" * 40 in res.out
    assert "metrics  recall_at_10=0.92" in res.out
    assert "data     data/raw directory 0a0a0a0a0a0a 10 B at git c0ffee" in res.out

    res = cli("models", "at", "rag", "production", "2026-03-20T09:00", "--json", *uri)
    doc = json.loads(res.out)
    assert (doc["version"], doc["metrics"], doc["git_commit"]) == (
        2,
        {"recall_at_10": 0.95},
        "1" * 40,
    )
    assert doc["inputs"][0]["hash"] == "1a" * 32


@pytest.mark.parametrize(
    ("alias", "args", "message"),
    [
        ("production", ["2026-02-01"], "first set at 2026-03-01 10:00:00 (to version 1)"),
        ("production", ["2026-03-15", "--metric", "f1"], "has no metric 'f1'"),
        ("production", ["15/03/2026"], "Can't read '15/03/2026' as a date or time"),
        ("staging", ["2026-03-15"], "no alias 'staging'"),
    ],
)
def test_models_at_errors_are_one_clear_line(client, cli, promoted, alias, args, message) -> None:
    res = cli("models", "at", "rag", alias, *args, "--tracking-uri", client.tracking_uri)
    assert res.code == 1
    assert message in res.err and "Hint:" in res.err and "Traceback" not in res.err


def test_models_diff_side_by_side(client, cli, promoted) -> None:
    uri = ("--tracking-uri", client.tracking_uri)
    res = cli("models", "diff", "rag", "1", "production", "--json", *uri)
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["versions"] == [1, 2]
    rows = {r["key"]: r for r in doc["rows"]}
    assert rows["git.commit"]["values"] == ["0" * 40, "1" * 40] and rows["git.commit"]["differs"]
    assert rows["inputs.data/raw"]["differs"] and rows["metrics.recall_at_10"]["differs"]
    assert not rows["status"]["differs"]
    table = cli("models", "diff", "rag", "1", "2", *uri)
    assert table.code == 0 and "0a0a0a0a0a0a" in table.out and "git.commit" in table.out
    one = cli("models", "diff", "rag", "1", *uri)
    assert one.code != 0 and "two versions" in one.err


def test_lineage_of_a_model_uri_through_the_cli(client, cli, promoted) -> None:
    res = cli("lineage", "models:/rag@production", "--tracking-uri", client.tracking_uri)
    assert res.code == 0, res.err
    assert res.out.startswith("model rag v2 [production]")
    assert "registered from run train-1" in res.out and "read data/raw" in res.out
    bad = cli("lineage", "models:/rag/x", "--tracking-uri", client.tracking_uri)
    assert bad.code == 1 and "Malformed model URI" in bad.err
