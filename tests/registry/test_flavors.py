"""Each flavor round-trips a real model through the store (SQLite and PostgreSQL):
predictions are equal before and after, and unsafe loads need trusted=True."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml

from loom.errors import LoomWarning, NotFoundError, ValidationError
from loom.registry import api
from tests.registry.conftest import need_torch
from tests.registry.models import Doubler, Threshold


def _log(client, run_id, model, path="model", **kw):
    return api.log_model(model, path, run_id=run_id, client=client, **kw)


def _package(loaded) -> dict:
    return yaml.safe_load((loaded.path / "loom-model.yaml").read_text())


# -- scikit-learn -------------------------------------------------------------------------


def test_sklearn_round_trip_with_skops_and_a_signature(client, run_id, data, sk_model) -> None:
    import sklearn

    X, _ = data
    info = _log(client, run_id, sk_model, input_example=X[:5])
    loaded = api.load_model(info.model_uri, client=client)
    assert np.array_equal(loaded.predict(X), sk_model.predict(X))
    assert type(loaded.raw) is type(sk_model)
    assert sorted(p.name for p in loaded.path.iterdir()) == [
        "input_example.json",
        "loom-model.yaml",
        "model.skops",
    ]
    meta = _package(loaded)
    assert meta["flavor"] == "sklearn" and meta["loader"] == "loom.registry.flavors.sklearn"
    assert f"scikit-learn=={sklearn.__version__}" in meta["requirements"]
    assert meta["run_id"] == run_id and meta["model_id"] == info.model_id
    assert meta["signature"]["inputs"] == {"type": "tensor", "dtype": "float64", "shape": [-1, 4]}
    assert meta["signature"]["outputs"] == {"type": "tensor", "dtype": "int64", "shape": [-1]}
    example = json.loads((loaded.path / "input_example.json").read_text())
    assert np.allclose(example["inputs"], X[:5])
    assert np.allclose(loaded.input_example, X[:5])


def test_sklearn_pipeline_on_a_dataframe_checks_columns(client, run_id, data) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, y)
    info = _log(client, run_id, model, input_example=frame[:3])
    loaded = api.load_model(info.model_uri, client=client)
    assert np.array_equal(loaded.predict(frame), model.predict(frame))
    records = frame[["d", "c", "b", "a"]].to_dict(orient="records")  # any order, as JSON gives
    assert np.array_equal(loaded.predict(records), model.predict(frame))
    with pytest.raises(ValidationError, match=r"lacks column\(s\) d \(float64\)"):
        loaded.predict(frame.drop(columns=["d"]))


def test_a_foreign_type_inside_a_sklearn_model_needs_trust(client, run_id, data) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X, y = data
    model = make_pipeline(Doubler(), LogisticRegression()).fit(X, y)
    info = _log(client, run_id, model)
    with pytest.raises(ValidationError) as refused:
        api.load_model(info.model_uri, client=client)
    assert "tests.registry.models.Doubler" in refused.value.message
    assert "trusted=True" in (refused.value.hint or "")
    loaded = api.load_model(info.model_uri, client=client, trusted=True)
    assert np.array_equal(loaded.predict(X), model.predict(X))


# -- PyTorch ------------------------------------------------------------------------------


def _train_mode_net(torch, data):
    from tests.registry.torch_models import Net

    torch.manual_seed(0)
    net = Net(4, hidden=8)
    X, _ = data
    net(torch.as_tensor(X, dtype=torch.float32))  # moves the batch-norm running stats
    return net  # left in train mode, as after training


def test_torch_round_trip_in_safetensors_with_import_path(client, run_id, data) -> None:
    torch = need_torch()
    X, _ = data
    net = _train_mode_net(torch, data)
    Xf = X.astype(np.float32)
    info = _log(client, run_id, net, input_example=Xf[:3], init_kwargs={"d": 4, "hidden": 8})
    assert net.training  # logging didn't switch the user's module to eval
    net.eval()
    with torch.no_grad():
        expected = net(torch.as_tensor(Xf)).numpy()
    loaded = api.load_model(info.model_uri, client=client)
    assert np.allclose(loaded.predict(Xf), expected, atol=1e-6)
    assert np.allclose(loaded.predict(X.tolist()), expected, atol=1e-6)  # JSON floats: float64
    meta = _package(loaded)
    assert meta["flavor_options"] == {
        "format": "safetensors",
        "file": "model.safetensors",
        "class": "tests.registry.torch_models:Net",
        "init_kwargs": {"d": 4, "hidden": 8},
    }
    assert meta["signature"]["outputs"] == {"type": "tensor", "dtype": "float32", "shape": [-1, 2]}
    assert not (loaded.path / "model.pt").exists()


def test_torch_without_the_constructor_arguments_is_refused_at_log_time(client, run_id) -> None:
    torch = need_torch()
    from tests.registry.torch_models import Net

    with pytest.raises(ValidationError) as info:
        _log(client, run_id, Net(4))
    assert "Net(**init_kwargs) can't be called" in info.value.message
    assert "init_kwargs=" in (info.value.hint or "")
    assert client.list_artifacts(run_id) == []  # nothing half-logged
    del torch


def test_a_torch_class_that_cant_be_imported_is_saved_as_torchscript(client, run_id, data) -> None:
    torch = need_torch()
    from torch import nn

    class Local(nn.Module):  # defined in a function: no import path
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(4, 3)

        def forward(self, x):
            return self.lin(x) * 2

    X, _ = data
    Xf = X.astype(np.float32)
    model = Local()
    with pytest.warns(LoomWarning, match="saved as TorchScript"):
        info = _log(client, run_id, model)
    loaded = api.load_model(info.model_uri, client=client)
    assert _package(loaded)["flavor_options"] == {"format": "torchscript", "file": "model.pt"}
    with torch.no_grad():
        assert np.allclose(loaded.predict(Xf), model(torch.as_tensor(Xf)).numpy())


def test_torchscript_on_request(client, run_id, data) -> None:
    torch = need_torch()
    X, _ = data
    net = _train_mode_net(torch, data).eval()
    info = _log(client, run_id, net, torchscript=True)
    loaded = api.load_model(info.model_uri, client=client)
    assert loaded.package.flavor_options["format"] == "torchscript"
    Xf = X.astype(np.float32)
    with torch.no_grad():
        assert np.allclose(loaded.predict(Xf), net(torch.as_tensor(Xf)).numpy(), atol=1e-6)


# -- ONNX ---------------------------------------------------------------------------------


def test_onnx_from_skl2onnx_predicts_like_the_sklearn_model(
    client, run_id, data, sk_model, tmp_path
) -> None:
    import onnx
    from skl2onnx import to_onnx

    X, _ = data
    proto = to_onnx(sk_model, X[:1].astype(np.float32), options={"zipmap": False})
    info = _log(client, run_id, proto, input_example=X[:4].astype(np.float32))
    loaded = api.load_model(info.model_uri, client=client)
    out = loaded.predict(X)  # float64 rows for a float32 input: converted
    assert set(out) == {"label", "probabilities"}
    assert np.array_equal(out["label"], sk_model.predict(X))
    assert np.allclose(out["probabilities"], sk_model.predict_proba(X), atol=1e-5)
    assert type(loaded.raw).__name__ == "InferenceSession"

    path = tmp_path / "clf.onnx"
    onnx.save_model(proto, str(path))
    by_path = _log(client, run_id, str(path), "from-file")
    again = api.load_model(by_path.model_uri, client=client)
    assert np.array_equal(again.predict(X.astype(np.float32))["label"], sk_model.predict(X))


def test_onnx_path_that_is_missing_or_not_onnx(client, run_id, tmp_path) -> None:
    with pytest.raises(NotFoundError, match="No ONNX file"):
        _log(client, run_id, str(tmp_path / "none.onnx"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a protobuf")
    with pytest.raises(ValidationError, match="is not a valid ONNX model"):
        _log(client, run_id, str(junk))


# -- generic ------------------------------------------------------------------------------


def test_a_pickled_model_loads_only_when_trusted(client, run_id, data) -> None:
    X, _ = data
    info = _log(client, run_id, Threshold(0.1), input_example=X[:2])
    assert info.flavor == "generic"
    with pytest.raises(ValidationError) as refused:
        api.load_model(info.model_uri, client=client)
    assert "pickle" in refused.value.message and "run any code" in refused.value.message
    assert "trusted=True" in (refused.value.hint or "")
    loaded = api.load_model(info.model_uri, client=client, trusted=True)
    assert np.array_equal(loaded.predict(X), Threshold(0.1).predict(X))


def test_a_class_from_main_is_refused_with_the_fix(client, run_id) -> None:
    class Script:
        def predict(self, data):
            return data

    Script.__module__ = "__main__"  # as when defined in the script that logs it
    with pytest.raises(ValidationError) as info:
        _log(client, run_id, Script())
    assert "defined in __main__" in info.value.message
    assert "code_paths" in (info.value.hint or "")


def test_no_flavor_fits_an_object_without_predict(client, run_id) -> None:
    with pytest.raises(ValidationError, match="Cannot tell how to save") as info:
        _log(client, run_id, object())
    assert "flavor=" in (info.value.hint or "")
    with pytest.raises(ValidationError, match="Unknown model flavor 'keras'"):
        _log(client, run_id, Threshold(0), flavor="keras")


def test_a_model_that_fails_on_its_example_still_logs_with_a_warning(client, run_id) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        info = _log(client, run_id, Threshold(0), input_example=["a", "b"])
    assert any("did not run on input_example" in str(w.message) for w in seen)
    assert info.signature is not None and info.signature.outputs is None
