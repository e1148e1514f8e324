"""``loom dag``, the stages in ``loom status``, and what a no-op costs (imports, not seconds)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.core import TyperArgument, TyperOption

from loom.cli import pipelines as cli_pipelines
from loom.cli.main import command

from .conftest import write


def test_dag_as_text_mermaid_dot_and_json(project, cli) -> None:
    r = cli("dag")
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        "prepare",
        "train          <- prepare",
        "evaluate@val   <- train",
        "evaluate@test  <- train",
    ]
    mermaid = cli("dag", "--mermaid").out
    assert mermaid.startswith("flowchart TD\n") and '  s2["evaluate@val"]' in mermaid
    assert "  s0 --> s1\n" in mermaid and "  s1 --> s3\n" in mermaid
    dot = cli("dag", "--dot").out
    assert '  "prepare" -> "train";' in dot and dot.rstrip().endswith("}")
    doc = json.loads(cli("dag", "--json").out)
    assert doc["edges"] == [
        ["prepare", "train"],
        ["train", "evaluate@val"],
        ["train", "evaluate@test"],
    ]
    r = cli("dag", "--dot", "--mermaid")
    assert r.code == 1 and "Choose one of" in r.err


def test_status_says_which_stages_would_run_and_why(project, cli) -> None:
    root = project.root
    r = cli("status")
    assert r.code == 0, r.err
    assert "Stages:\n  prepare        will run: never ran (no entry in loom.lock)\n" in r.out
    assert cli("repro").code == 0
    write(root / "params.yaml", (root / "params.yaml").read_text().replace("0.01", "0.1"))
    r = cli("status")
    assert "  prepare        up to date\n" in r.out
    assert "  train          will run: param train.lr changed (0.01 -> 0.1)\n" in r.out
    assert "  evaluate@val   will run: upstream stage train runs first\n" in r.out
    rows = json.loads(cli("status", "--json").out)
    assert {
        "stage": "train",
        "action": "run",
        "reason": "param train.lr changed (0.01 -> 0.1)",
    } in (rows)


def test_status_with_a_broken_loom_yaml_shows_the_data_then_the_error(ws, cli) -> None:
    write("data/a.csv", "x")
    assert cli("add", "data/a.csv").code == 0
    write("loom.yaml", "stages:\n  a:\n    cmd: x\n    deps: [nowhere]\n")
    r = cli("status")
    assert r.code == 1
    assert "clean     data/a.csv" in r.out
    assert "loom.yaml:4: stage 'a': the dep nowhere does not exist" in r.err


def _modules_after(code: str, cwd) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_a_no_op_repro_loads_no_tracking_and_status_without_loom_yaml_no_pipelines(
    project, cli
) -> None:
    assert cli("repro").code == 0
    run = "from loom.cli import pipelines as p\np.run('repro', p.parse(['repro'])[1])"
    loaded = _modules_after(run, project.root)
    assert "loom.pipelines.plan" in loaded
    assert not {"sqlalchemy", "loom.tracking.client", "loom.pipelines.scheduler"} & loaded
    assert not {"typer", "rich"} & loaded

    (project.root / "loom.yaml").unlink()
    status = (
        "from loom.cli import data_run, spec\ndata_run.run('status', spec.parse(['status'])[1])"
    )
    assert not any(m.startswith("loom.pipelines") for m in _modules_after(status, project.root))


@pytest.mark.parametrize("name", cli_pipelines.COMMANDS)
def test_fast_parser_and_typer_agree(name: str) -> None:
    declared = cli_pipelines.COMMANDS[name]
    cmd = command().commands[name]
    options = {p.name: p for p in cmd.params if isinstance(p, TyperOption)}
    assert set(options) == {o.keyword for o in declared.options}
    for o in declared.options:
        assert tuple(options[o.keyword].opts) == o.flags
    arguments = [p for p in cmd.params if isinstance(p, TyperArgument)]
    assert len(arguments) == (declared.paths is not None)


def test_fast_path_parses_repro() -> None:
    assert cli_pipelines.parse(["repro", "train", "-j", "4", "--force"]) == (
        "repro",
        {
            "paths": ["train"],
            "force": True,
            "dry_run": False,
            "downstream": False,
            "single_item": False,
            "jobs": 4,
            "parent_run": None,
            "as_json": False,
        },
    )
    _, keywords = cli_pipelines.parse(["repro", "-s", "train", "--parent-run", "ab12"]) or ("", {})
    assert (keywords["single_item"], keywords["parent_run"]) == (True, "ab12")
    assert cli_pipelines.parse(["repro", "--jobs=4"]) is None  # left to typer
