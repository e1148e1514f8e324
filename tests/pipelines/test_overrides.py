"""``-S [FILE:]KEY=VALUE``: YAML scalars, YAML files edited in place, unknown keys refused."""

from __future__ import annotations

import json

import pytest

from loom.errors import UsageError
from loom.pipelines import overrides

PARAMS = """\
# the model's knobs
train:
  lr: 0.01   # learning rate
  layers:
    - 8
    - 4
  optimizer: "sgd"
prepare: {split: 0.2, seed: 1}
"""


def test_yaml_is_edited_in_place_and_values_are_yaml(tmp_path) -> None:
    (tmp_path / "params.yaml").write_text(PARAMS)
    (tmp_path / "more.json").write_text('{"a": {"b": 1}, "c": 2}')
    found = overrides.parse(
        [
            "train.lr=1e-3",
            "train.layers=[16, 8, 4]",
            "train.optimizer=adam",
            "prepare.seed=7",
            "more.json:a.b=true",
            "train.lr=0.002",  # the last one for a key wins
        ]
    )
    assert [(o.key, o.value) for o in found][:2] == [
        ("train.lr", 0.002),
        ("train.layers", [16, 8, 4]),
    ]
    assert overrides.parse(["x=1e-3"])[0].value == 0.001  # YAML 1.1 would say "1e-3"
    overrides.apply(tmp_path, found)
    assert (tmp_path / "params.yaml").read_text() == PARAMS.replace("0.01", "0.002").replace(
        "- 8\n    - 4", "[16, 8, 4]"
    ).replace('"sgd"', "adam").replace("seed: 1", "seed: 7")
    assert json.loads((tmp_path / "more.json").read_text()) == {"a": {"b": True}, "c": 2}


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("train.lrr=1", "Did you mean train.lr"),
        ("nope.yaml:train.lr=1", "nope.yaml does not exist"),
        ("train.lr", "is not FILE:KEY=VALUE"),
        ("../x.yaml:a=1", "is not FILE:KEY=VALUE"),
    ],
)
def test_what_cannot_be_set_is_refused_and_nothing_changes(tmp_path, item, words) -> None:
    (tmp_path / "params.yaml").write_text(PARAMS)
    with pytest.raises(UsageError) as raised:
        overrides.apply(tmp_path, overrides.parse([item, "train.lr=5"]))
    assert words in raised.value.message + (raised.value.hint or "")
    assert (tmp_path / "params.yaml").read_text() == PARAMS
