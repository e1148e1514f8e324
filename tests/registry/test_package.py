"""loom-model.yaml: written in full, and every wrong field refused with the file named."""

from __future__ import annotations

import pytest
import yaml

from loom.errors import PackageError
from loom.registry.package import PackageMeta, pin
from loom.registry.signature import Signature, Tensor

WHERE = "loom-model.yaml of runs:/x/model"


def _meta() -> PackageMeta:
    return PackageMeta(
        flavor="sklearn",
        flavor_options={"file": "model.skops", "format": "skops"},
        loom_version="0.1.0",
        python_version="3.11.7",
        requirements=("scikit-learn==1.5.0",),
        signature=Signature(Tensor("float64", (-1, 4)), Tensor("int64", (-1,))),
        input_example="input_example.json",
        run_id="0" * 32,
        model_id="m-" + "1" * 32,
        artifact_path="model",
        created=1,
    )


def test_the_yaml_round_trips_with_every_field() -> None:
    text = _meta().to_yaml()
    data = yaml.safe_load(text)
    assert data["format"] == 1
    assert data["loader"] == "loom.registry.flavors.sklearn"
    assert data["signature"]["inputs"] == {"type": "tensor", "dtype": "float64", "shape": [-1, 4]}
    assert PackageMeta.parse(text, WHERE) == _meta()


def _with(**changes: object) -> str:
    data = _meta().to_dict()
    data.update(changes)
    return yaml.safe_dump(data)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("flavor: [unclosed", "not valid YAML"),
        ("- a list", "not a mapping of fields"),
        (_with(format="one"), "'format' is 'one'"),
        (_with(flavor="keras"), "'flavor' is 'keras'; Loom knows onnx, pytorch, sklearn, generic"),
        (_with(loader="os"), "'loader' is 'os'"),
        (_with(flavor_options=[1]), "'flavor_options' is not a mapping"),
        (_with(requirements="numpy"), "'requirements' is not a list"),
        (_with(run_id=5), "'run_id' is 5, not text"),
        (_with(signature={"inputs": {"type": "graph"}}), "its 'signature' is wrong"),
        (_with(flavor_options={"file": "../../etc/passwd"}), "'..' part"),
        (_with(input_example="/abs/x.json"), "it is absolute"),
    ],
)
def test_a_wrong_field_is_a_package_error_naming_the_file(text: str, why: str) -> None:
    with pytest.raises(PackageError) as info:
        PackageMeta.parse(text, WHERE)
    assert WHERE in info.value.message
    assert why in info.value.message


def test_a_newer_format_asks_for_a_newer_loom() -> None:
    with pytest.raises(PackageError) as info:
        PackageMeta.parse(_with(format=2), WHERE)
    assert "written by a newer Loom" in info.value.message
    assert "pip install -U loom" in (info.value.hint or "")


def test_fields_a_newer_loom_adds_are_kept() -> None:
    meta = PackageMeta.parse(_with(serving={"port": 1}), WHERE)
    assert meta.extra == {"serving": {"port": 1}}
    assert yaml.safe_load(meta.to_yaml())["serving"] == {"port": 1}


def test_requirements_are_pinned_from_the_environment() -> None:
    import importlib.metadata

    pinned = pin(("pyyaml", "no-such-distribution-xyz"))
    assert pinned == [f"pyyaml=={importlib.metadata.version('pyyaml')}"]
