"""ONNX models (an ``onnx.ModelProto`` or the path of a ``.onnx`` file), run with onnxruntime.

``predict`` feeds a single-input model the whole batch, and a model with
several inputs one DataFrame column (or dict entry) per input name; float
input is cast to the input's declared type (JSON numbers arrive as float64,
most ONNX models take float32). One output comes back as an array, several
as a dict by output name.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from loom.errors import NotFoundError, ValidationError
from loom.registry.flavors import require

NAME = "onnx"
EXTRA = "onnx"
PACKAGES = ("onnx", "onnxruntime", "numpy")
FILE = "model.onnx"
_FLOATS = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16"}


def matches(model: Any) -> bool:
    if isinstance(model, str | os.PathLike):
        return os.fspath(model).endswith(".onnx")
    onnx = sys.modules.get("onnx")
    return onnx is not None and isinstance(model, onnx.ModelProto)


def save(model: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    onnx = require("onnx", NAME, EXTRA)
    if isinstance(model, str | os.PathLike):
        src = Path(model)
        if not src.is_file():
            raise NotFoundError(f"No ONNX file at {src}.", hint="Check the path.", path=str(src))
        try:
            onnx.checker.check_model(str(src))
        except Exception as exc:  # onnx raises its own ValidationError and protobuf errors
            raise ValidationError(f"{src} is not a valid ONNX model: {exc}") from None
        shutil.copyfile(src, folder / FILE)
    else:
        onnx.save_model(model, str(folder / FILE))
    return {"file": FILE}


def load(folder: Path, options: dict[str, Any], trusted: bool) -> Any:
    ort = require("onnxruntime", NAME, EXTRA)
    path = folder / options.get("file", FILE)
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def predict(raw: Any, data: Any) -> Any:
    import numpy as np

    inputs = raw.get_inputs()
    if len(inputs) == 1:
        values = data.to_numpy() if hasattr(data, "to_numpy") else data
        feed = {inputs[0].name: _cast(np.asarray(values), inputs[0].type)}
    else:
        feed = {i.name: _cast(_column(data, i.name), i.type) for i in inputs}
    outputs = raw.run(None, feed)
    if len(outputs) == 1:
        return outputs[0]
    return {o.name: v for o, v in zip(raw.get_outputs(), outputs, strict=True)}


def _column(data: Any, name: str) -> Any:
    import numpy as np

    try:
        values = data[name]
    except (KeyError, TypeError, IndexError):
        raise ValidationError(
            f"This ONNX model takes several inputs; the data has no {name!r}.",
            hint="Pass a DataFrame or dict with one column per input name.",
        ) from None
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


def _cast(arr: Any, onnx_type: str) -> Any:
    want = _FLOATS.get(onnx_type)
    if want is not None and arr.dtype.kind in "biuf" and arr.dtype != want:
        return arr.astype(want)
    return arr
