"""scikit-learn models, saved with skops (no pickle: loading runs no code from the file).

skops refuses to load a type it doesn't trust. Classes from scikit-learn,
NumPy and SciPy are trusted here; anything else (a custom transformer, a
function, another library's estimator) loads only with ``trusted=True``,
because loading it imports and runs that code.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from loom.errors import ValidationError
from loom.registry.flavors import mro_modules, require

NAME = "sklearn"
EXTRA = "sklearn"
PACKAGES = ("scikit-learn", "skops", "numpy", "scipy")
FILE = "model.skops"
_TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy")


def matches(model: Any) -> bool:
    return "sklearn" in mro_modules(model)


def save(model: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    sio = _skops()
    sio.dump(model, folder / FILE)
    return {"file": FILE, "format": "skops"}


def load(folder: Path, options: dict[str, Any], trusted: bool) -> Any:
    sio = _skops()
    require("sklearn", NAME, EXTRA, "scikit-learn")
    path = folder / options.get("file", FILE)
    unknown = sio.get_untrusted_types(file=path)
    foreign = [t for t in unknown if not _library_class(t)]
    if foreign and not trusted:
        raise ValidationError(
            f"This scikit-learn model holds types from outside scikit-learn, NumPy and SciPy: "
            f"{', '.join(foreign)}. Loading them imports and runs their code.",
            hint="If you trust where the model came from, load it with trusted=True "
            "(loom.load_model(uri, trusted=True)).",
            types=foreign,
        )
    return sio.load(path, trusted=unknown)


def predict(raw: Any, data: Any) -> Any:
    return raw.predict(data)


def _skops() -> Any:
    require("skops", NAME, EXTRA)
    return require("skops.io", NAME, EXTRA, "skops")


def _library_class(name: str) -> bool:
    """Whether ``name`` (``pkg.module.Class``) is a class defined by scikit-learn, NumPy or
    SciPy. Functions are not trusted: a function in a model runs at predict time."""
    if name.split(".")[0] not in _TRUSTED_PACKAGES or "._private" in name or ".testing" in name:
        return False
    module, _, attr = name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return False
    return isinstance(obj, type) and obj.__module__.split(".")[0] in _TRUSTED_PACKAGES
