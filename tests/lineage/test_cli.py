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
