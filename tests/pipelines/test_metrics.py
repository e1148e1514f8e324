"""``loom metrics show`` and ``loom metrics diff``: the metrics files of loom.yaml's stages,
nested JSON and YAML flattened, at real git commits and in the workspace."""

from __future__ import annotations

import json

import pytest

from tests.data.conftest import cli, commit, write, ws  # noqa: F401

PIPELINE = """\
stages:
  train:
    cmd: python train.py
    metrics:
    - metrics.json
  evaluate:
    foreach: [val, test]
    do:
      cmd: python evaluate.py ${item}
      wdir: eval
      metrics:
      - ${item}/scores.yaml:
          cache: false
"""


def _json(cli, *args: str) -> dict:  # noqa: F811
    r = cli("metrics", *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def _metrics(train: dict, val: str, test: str | None) -> None:
    write("metrics.json", json.dumps(train))
    write("eval/val/scores.yaml", val)
    if test is not None:
        write("eval/test/scores.yaml", test)


def test_show_flattens_nested_json_and_yaml_of_every_stage(ws, cli):  # noqa: F811
    write("loom.yaml", PIPELINE)
    _metrics(
        {"auc": 0.9, "loss": {"train": 0.2, "val": 0.3}}, "acc: 0.8\nper_class: {a: 1}\n", None
    )
    assert _json(cli, "show") == {
        "metrics.json": {"auc": 0.9, "loss.train": 0.2, "loss.val": 0.3},
        "eval/val/scores.yaml": {"acc": 0.8, "per_class.a": 1},
        "eval/test/scores.yaml": None,  # declared, not written yet
    }
    r = cli("metrics", "show")
    assert r.code == 0
    assert "Warning: eval/test/scores.yaml is missing in the workspace" in r.err
    header = next(line for line in r.out.splitlines() if "Path" in line)
    assert [c.strip() for c in header.split("┃")[1:-1]] == [
        "Path",
        "auc",
        "loss.train",
        "loss.val",
        "acc",
        "per_class.a",
    ]
    row = next(line for line in r.out.splitlines() if "metrics.json" in line)
    assert [c.strip() for c in row.split("│")[1:-1]] == [
        "metrics.json",
        "0.9",
        "0.2",
        "0.3",
        "—",
        "—",
    ]


def test_diff_two_commits_nested_keys_deltas_and_non_numbers(ws, cli):  # noqa: F811
    write("loom.yaml", PIPELINE)
    _metrics({"auc": 0.8, "loss": {"train": 0.5}, "best": "a"}, "acc: 0.7\n", None)
    commit("one")
    _metrics({"auc": 0.85, "loss": {"train": 0.4}, "best": "b"}, "acc: 0.7\n", "acc: 0.6\n")
    commit("two")
    d = _json(cli, "diff", "HEAD~1", "HEAD")
    assert d == {
        "metrics.json": {
            "auc": {"old": 0.8, "new": 0.85, "diff": 0.05, "status": "modified"},
            "loss.train": {"old": 0.5, "new": 0.4, "diff": -0.1, "status": "modified"},
            "best": {"old": "a", "new": "b", "status": "modified"},
        },
        "eval/test/scores.yaml": {"acc": {"old": None, "new": 0.6, "status": "added"}},
    }
    unchanged = _json(cli, "diff", "HEAD~1", "HEAD", "--all")["eval/val/scores.yaml"]
    assert unchanged == {"acc": {"old": 0.7, "new": 0.7, "diff": 0.0, "status": "unchanged"}}


def test_diff_defaults_to_head_against_the_workspace_and_one_rev_against_it(ws, cli):  # noqa: F811
    write("loom.yaml", PIPELINE)
    _metrics({"auc": 0.5}, "acc: 0.5\n", "acc: 0.5\n")
    commit("one")
    _metrics({"auc": 0.6}, "acc: 0.5\n", "acc: 0.5\n")
    commit("two")
    _metrics({"auc": 0.75}, "acc: 0.5\n", None)
    (ws.root / "eval/test/scores.yaml").unlink()
    assert _json(cli, "diff") == {
        "metrics.json": {"auc": {"old": 0.6, "new": 0.75, "diff": 0.15, "status": "modified"}},
        "eval/test/scores.yaml": {"acc": {"old": 0.5, "new": None, "status": "deleted"}},
    }
    assert _json(cli, "diff", "HEAD~1")["metrics.json"]["auc"]["diff"] == 0.25
    r = cli("metrics", "diff")
    row = next(line for line in r.out.splitlines() if "auc" in line)
    assert [c.strip() for c in row.split("│")[1:-1]] == [
        "metrics.json",
        "auc",
        "0.6",
        "0.75",
        "0.15",
    ]
    assert "HEAD" in r.out and "workspace" in r.out
    write("metrics.json", json.dumps({"auc": 0.123456789}))
    r = cli("metrics", "diff", "--precision", "3")
    row = next(line for line in r.out.splitlines() if "auc" in line)
    assert [c.strip() for c in row.split("│")[4:-1]] == ["0.123", "-0.477"]  # rounded, as DVC
    assert cli("metrics", "diff", "--precision", "-1").code == 2  # a usage error


def test_non_finite_metrics_are_strict_json_strings(ws, cli):  # noqa: F811
    write("loom.yaml", "stages: {t: {cmd: x, metrics: [m.json]}}\n")
    write("m.json", '{"loss": NaN, "grad": 1.0}')
    commit("one")
    write("m.json", '{"loss": NaN, "grad": Infinity}')
    r = cli("metrics", "diff", "--json", "--all")
    assert r.code == 0
    d = json.loads(r.out)  # strict: a NaN literal would not parse here
    assert d["m.json"]["loss"] == {"old": "NaN", "new": "NaN", "status": "unchanged"}
    # no difference with infinity or NaN: it would say nothing
    assert d["m.json"]["grad"] == {"old": 1.0, "new": "Infinity", "status": "modified"}
    assert json.loads(cli("metrics", "show", "--json").out) == {
        "m.json": {"loss": "NaN", "grad": "Infinity"}
    }


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("m.json", '{"auc": 0.9', "{}, m.json:1: not valid JSON: Expecting ',' delimiter"),
        ("m.yaml", "auc: [0.9\n", "{}, m.yaml:2: not valid YAML"),
        ("m.json", "[0.9, 0.8]", "{}, m.json holds a list, not a mapping"),
        ("m.json", b"\xff\xfe{}", "{}, m.json:1: not valid JSON"),
    ],
)
def test_a_metrics_file_that_does_not_parse_is_named(ws, cli, name, text, says):  # noqa: F811
    write("loom.yaml", f"stages: {{t: {{cmd: x, metrics: [{name}]}}}}\n")
    write(name, text)
    r = cli("metrics", "show")
    assert r.code == 1 and says.format("In the workspace") in r.err and "Hint:" in r.err, r.err
    commit("one")
    r = cli("metrics", "diff")
    assert r.code == 1 and says.format("At HEAD") in r.err and "Traceback" not in r.err


def test_a_metrics_file_that_is_a_folder_is_refused(ws, cli):  # noqa: F811
    write("loom.yaml", "stages: {t: {cmd: x, metrics: [scores]}}\n")
    write("scores/a.json", "{}")
    r = cli("metrics", "show")
    assert r.code == 1 and "scores is a folder in the workspace" in r.err


def test_no_metrics_declared_is_a_warning(ws, cli):  # noqa: F811
    write("loom.yaml", "stages: {t: {cmd: x}}\n")
    r = cli("metrics", "show")
    assert r.code == 0 and r.out == "" and "No metrics files are declared" in r.err


def test_the_loom_process_prints_the_diff_of_a_file_with_spaces_in_its_name(ws):  # noqa: F811
    from tests.data.conftest import loom_run

    write("loom.yaml", "stages: {t: {cmd: x, metrics: [my scores/m 1.yaml, gone.json]}}\n")
    write("my scores/m 1.yaml", "scores: {f1: 0.5}\n")
    commit("one")
    write("my scores/m 1.yaml", "scores: {f1: 0.625}\n")
    proc = loom_run("metrics", "diff", "--json", cwd=ws.root)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "my scores/m 1.yaml": {
            "scores.f1": {"old": 0.5, "new": 0.625, "diff": 0.125, "status": "modified"}
        }
    }


def test_foreach_over_a_mapping_and_matrix_stages_declare_their_metrics(ws, cli):  # noqa: F811
    write(
        "loom.yaml",
        "stages:\n"
        "  ev:\n    foreach: {small: 1, big: 2}\n    do:\n      cmd: x ${item}\n"
        "      metrics:\n      - ev/${key}.json\n"
        "  grid:\n    matrix: {model: [a, b], lr: [0.1]}\n    cmd: x\n"
        "    metrics: [grid/${item.model}-${item.lr}.json]\n"
        "  per:\n    foreach: ${sets}\n    do:\n      cmd: x\n      metrics: [per/${item}.json]\n",
    )
    write("params.yaml", "sets: [x]\n")  # ${sets}: params.yaml is read for templating
    for name in ("ev/small", "ev/big", "grid/a-0.1", "grid/b-0.1", "per/x"):
        write(f"{name}.json", json.dumps({"score": len(name)}))
    assert _json(cli, "show") == {
        "ev/small.json": {"score": 8},
        "ev/big.json": {"score": 6},
        "grid/a-0.1.json": {"score": 10},
        "grid/b-0.1.json": {"score": 10},
        "per/x.json": {"score": 5},
    }


def test_a_metrics_file_with_a_newline_in_its_name_is_read_at_a_revision(ws, cli):  # noqa: F811
    write("loom.yaml", 'stages: {t: {cmd: x, metrics: ["odd\\nname.json", m.json]}}\n')
    write("odd\nname.json", '{"a": 1}')
    write("m.json", '{"b": 1}')
    commit("one")
    write("odd\nname.json", '{"a": 3}')
    write("m.json", '{"b": 2}')
    d = _json(cli, "diff")  # the batch read takes one name a line: this one is read alone
    assert d["odd\nname.json"]["a"]["diff"] == 2 and d["m.json"]["b"]["diff"] == 1
