"""loom.yaml parsing and templating: every form dvc.yaml users write, and errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from loom.pipelines.errors import PipelineError
from loom.pipelines.params import ParamFiles
from loom.pipelines.spec import load, loads

PARAMS = b"""\
prepare:
  split: 0.2
train:
  lr: 0.01
  epochs: 3
models: [a, b]
datasets: {small: 10, big: 1000}
"""

ISSUE_EXAMPLE = """\
vars: [params.yaml]
stages:
  prepare:
    cmd: python src/prepare.py
    deps: [data/raw, src/prepare.py]
    params: [prepare.split]
    outs: [data/processed]
  train:
    cmd: python src/train.py
    deps: [data/processed, src/train.py]
    params: [train]                      # a whole section of params.yaml
    outs: [models/model]
    metrics: [metrics.json]
    plots: [plots/loss.csv]
  evaluate:
    foreach: [val, test]
    do:
      cmd: python src/evaluate.py ${item}
      deps: [models/model, data/processed]
      metrics: [eval/${item}.json]
"""


def _load(text: str, **files: bytes):
    files.setdefault("params.yaml", PARAMS)
    return loads(text.encode(), read=lambda rel: files.get(rel))


def _error(text: str, **files: bytes) -> PipelineError:
    with pytest.raises(PipelineError) as info:
        _load(text, **files)
    assert "Traceback" not in str(info.value)
    return info.value


def test_the_issue_example_including_braces_inside_a_flow_list() -> None:
    p = _load(ISSUE_EXAMPLE)
    assert list(p.stages) == ["prepare", "train", "evaluate@val", "evaluate@test"]
    train = p.stages["train"]
    assert [d.path for d in train.deps] == ["data/processed", "src/train.py"]
    assert [(x.file, x.key) for x in train.params] == [("params.yaml", "train")]
    assert [(o.path, o.section, o.cache) for o in train.outs] == [
        ("models/model", "outs", True),
        ("metrics.json", "metrics", False),  # metrics and plots stay in git by default
        ("plots/loss.csv", "plots", False),
    ]
    assert p.stages["evaluate@test"].cmd == "python src/evaluate.py test"
    assert [o.path for o in p.stages["evaluate@val"].metrics] == ["eval/val.json"]
    assert str(p.stages["train"].where) == "loom.yaml:8"
    assert str(p.stages["evaluate@val"].where) == "loom.yaml:16"  # its foreach line


def test_interpolation_forms() -> None:
    p = _load(
        """\
vars:
  - {name: run1, flags: {fast: true}, sizes: [8, 16]}
stages:
  s:
    cmd: python t.py --lr ${train.lr} --n ${sizes[1]} --fast ${flags.fast} \\${HOME} ${name}
    outs: [out/${name}.bin]
"""
    )
    s = p.stages["s"]
    assert s.cmd == "python t.py --lr 0.01 --n 16 --fast true ${HOME} run1"
    assert [o.path for o in s.outs] == ["out/run1.bin"]


def test_foreach_over_a_dict_a_params_list_and_a_list_of_mappings() -> None:
    p = _load(
        """\
stages:
  size:
    foreach: ${datasets}
    do:
      cmd: echo ${key} ${item}
      outs: [out/${key}]
  model:
    foreach: ${models}
    do:
      cmd: echo ${item}
  cfg:
    foreach:
      - {lr: 1, bs: 8}
      - {lr: 2, bs: 16}
    do:
      cmd: echo ${item.lr} ${item.bs}
"""
    )
    assert {n: s.cmd for n, s in p.stages.items()} == {
        "size@small": "echo small 10",
        "size@big": "echo big 1000",
        "model@a": "echo a",
        "model@b": "echo b",
        "cfg@0": "echo 1 8",
        "cfg@1": "echo 2 16",
    }


def test_matrix_names_and_items() -> None:
    p = _load(
        """\
stages:
  grid:
    matrix:
      model: ${models}
      lr: [0.1, 1]
    cmd: python train.py ${item.model} ${item.lr}
    outs: [out/${item.model}-${item.lr}]
"""
    )
    assert list(p.stages) == ["grid@a-0.1", "grid@a-1", "grid@b-0.1", "grid@b-1"]
    assert p.stages["grid@b-1"].cmd == "python train.py b 1"
    assert p.stages["grid@b-1"].outs[0].path == "out/b-1"


def test_wdir_resolves_paths_params_files_and_several_params_files() -> None:
    p = _load(
        """\
stages:
  s:
    cmd: python run.py
    wdir: sub/dir
    deps: [../../data/raw, run.py]
    params: [lr, {../../other.json: [a.b]}, {conf.toml: }]
    outs: [{out: {persist: true}}]
    frozen: true
    always_changed: true
""",
        **{"sub/dir/params.yaml": b"lr: 1\n"},
    )
    s = p.stages["s"]
    assert s.wdir == "sub/dir" and s.frozen and s.always_changed
    assert [d.path for d in s.deps] == ["data/raw", "sub/dir/run.py"]
    assert [(x.file, x.key) for x in s.params] == [
        ("sub/dir/params.yaml", "lr"),
        ("other.json", "a.b"),
        ("sub/dir/conf.toml", None),
    ]
    assert s.outs[0].path == "sub/dir/out" and s.outs[0].persist


def test_vars_files_of_every_format_and_partial_imports() -> None:
    p = _load(
        """\
vars: [conf.json, conf.toml, "more.yaml:keep"]
stages:
  s:
    vars: [{local: L}]
    cmd: echo ${j} ${t.x} ${keep} ${local}
""",
        **{
            "conf.json": b'{"j": 1}',
            "conf.toml": b"[t]\nx = 2\n",
            "more.yaml": b"keep: 3\ndrop: 4\n",
        },
    )
    assert p.stages["s"].cmd == "echo 1 2 3 L"
    assert "drop" not in p.context


def test_params_values_sections_dotted_keys_and_whole_files(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_bytes(PARAMS)
    (tmp_path / "other.yaml").write_text("a: 1\nb: {c: 2}\n")
    (tmp_path / "loom.yaml").write_text(
        "stages:\n  s:\n    cmd: x\n    params: [train, prepare.split, {other.yaml: }]\n"
    )
    p = load(tmp_path)
    from loom.pipelines.spec import disk_reader

    values = ParamFiles(disk_reader(tmp_path)).values(p.stages["s"])
    assert values == {
        "params.yaml": {"train": {"lr": 0.01, "epochs": 3}, "prepare.split": 0.2},
        "other.yaml": {"a": 1, "b": {"c": 2}},
    }


@pytest.mark.parametrize(
    "text, line, says",
    [
        ("stages:\n  a:\n    cmd: x\n  a:\n    cmd: y\n", 4, "'a' is written twice"),
        ("stages:\n  a:\n    cmd: x\n    dep: [y]\n", 4, "unknown key 'dep'"),
        ("stages:\n  a:\n    deps: [y]\n", 2, "needs a cmd"),
        ("stages:\n  a:\n    cmd: echo ${nope}\n", 3, "'nope' is not defined"),
        ("stages:\n  a:\n    cmd: echo ${train.nope}\n", 3, "'nope' is not defined"),
        ("stages:\n  a:\n    cmd: echo ${train}\n", 3, "can't be written inside a string"),
        ("stages:\n  a:\n    cmd: x\n    outs:\n    - ../up\n", 5, "not inside the workspace"),
        ("stages:\n  a:\n    cmd: x\n    deps: [/etc/passwd]\n", 4, "is absolute"),
        ("stages:\n  a:\n    cmd: x\n    outs: [.loom/x]\n", 4, "inside .loom/"),
        ("stages:\n  a:\n    foreach: 3\n    do: {cmd: x}\n", 3, "needs a list or a mapping"),
        ("stages:\n  a:\n    foreach: [1]\n    cmd: x\n", 4, "can't be next to foreach"),
        ("stages:\n  a:\n    matrix: {m: []}\n    cmd: x\n", 3, "needs a non-empty list"),
        ("stages:\n  a b:\n    cmd: x\n", 2, "not a valid stage name"),
        ("stages:\n  a:\n    cmd: x\n    frozen: yes please\n", 4, "true or false"),
        ("stages:\n  a:\n    cmd: x\n    outs:\n    - o: {cach: false}\n", 5, "unknown option"),
        ("stage:\n  a:\n    cmd: x\n", 1, "unknown key 'stage'"),
        ("stages:\n  a:\n    cmd: [x\n", 4, "not valid YAML"),
        ("vars: [missing.yaml]\nstages: {}\n", 1, "does not exist"),
        ("vars: [{train: 1}]\nstages: {}\n", 1, "defined twice"),
    ],
)
def test_errors_name_the_file_and_line(text: str, line: int, says: str) -> None:
    err = _error(text)
    assert err.message.startswith(f"loom.yaml:{line}: "), err.message
    assert says in err.message, err.message
    assert err.fields["line"] == line


def test_unknown_param_key_names_its_line_and_close_keys() -> None:
    p = _load("stages:\n  a:\n    cmd: x\n    params:\n    - train.lr\n    - train.lrr\n")
    with pytest.raises(PipelineError) as info:
        ParamFiles(lambda rel: PARAMS if rel == "params.yaml" else None).values(p.stages["a"])
    assert info.value.message.startswith("loom.yaml:6: the param 'train.lrr'")
    assert "train.lr" in (info.value.hint or "")


def test_missing_params_file_is_refused_at_its_line() -> None:
    p = _load("stages:\n  a:\n    cmd: x\n    params:\n    - {other.yaml: [k]}\n")
    with pytest.raises(PipelineError, match=r"^loom.yaml:5: the params file other.yaml"):
        ParamFiles(lambda rel: None).values(p.stages["a"])


def test_load_without_a_loom_yaml(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"There is no loom\.yaml"):
        load(tmp_path)
