"""Any Python object with ``predict(data)``: pickled, with the code files it needs.

A pickle runs code when it is loaded, so a generic model loads only with
``trusted=True``. The object's class must be importable where it is loaded:
a class defined in ``__main__`` (a script, a notebook) is refused at save
time, with the fix (move it to a module, pass ``code_paths=``).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from loom.errors import ValidationError

NAME = "generic"
EXTRA = None
PACKAGES: tuple[str, ...] = ()
FILE = "model.pkl"


def matches(model: Any) -> bool:
    return callable(getattr(model, "predict", None))


def save(model: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    if not matches(model):
        raise ValidationError(
            f"A {type(model).__qualname__} has no predict() method, so the generic flavor "
            "cannot serve it.",
            hint="Wrap the model in a class whose predict(data) returns its predictions.",
        )
    cls = type(model)
    if cls.__module__ == "__main__":
        raise ValidationError(
            f"Class {cls.__qualname__} is defined in __main__ (this script or notebook), so a "
            "pickle of it can't be loaded anywhere else.",
            hint="Move the class into a module (e.g. my_model.py), import it from there, and "
            "pass code_paths=['my_model.py'] to log_model.",
        )
    try:
        data = pickle.dumps(model, protocol=5)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise ValidationError(
            f"Cannot pickle the {cls.__qualname__} model: {exc}",
            hint="Keep open files, locks and lambdas out of the model object.",
        ) from None
    (folder / FILE).write_bytes(data)
    return {"file": FILE, "format": "pickle", "protocol": 5}


def load(folder: Path, options: dict[str, Any], trusted: bool) -> Any:
    if not trusted:
        raise ValidationError(
            "This model is a pickle (generic flavor): loading it can run any code the file "
            "holds, so Loom loads it only when told the source is trusted.",
            hint="If you or your team logged it, load it with trusted=True "
            "(loom.load_model(uri, trusted=True)); prefer the scikit-learn, PyTorch or ONNX "
            "flavors, which need no pickle.",
        )
    with open(folder / options.get("file", FILE), "rb") as f:
        return pickle.load(f)


def predict(raw: Any, data: Any) -> Any:
    return raw.predict(data)
