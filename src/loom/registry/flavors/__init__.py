"""Flavors: how one kind of model is saved to files and loaded back.

Each flavor is a small module with the same names (see :class:`Flavor`); its
machine learning library is imported inside its functions, so detecting a
flavor or importing this package costs nothing. A module is chosen from a
fixed table, never from a name found in a package file: loading a model must
not import whatever module a file names.

    >>> detect(object())  # doctest: +SKIP
    ValidationError: Cannot tell how to save a object ...
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, cast

from loom.errors import DependencyError, ValidationError

MODULES = {
    "onnx": "loom.registry.flavors.onnx",
    "pytorch": "loom.registry.flavors.pytorch",
    "sklearn": "loom.registry.flavors.sklearn",
    "generic": "loom.registry.flavors.generic",
}
# Most specific first: a scikit-learn estimator also has predict().
DETECT_ORDER = ("onnx", "pytorch", "sklearn", "generic")
_PIP_NAMES = {"sklearn": "scikit-learn"}  # import name -> distribution, where they differ


class Flavor(Protocol):
    NAME: str
    EXTRA: str | None  # the loom extra that installs the flavor's libraries
    PACKAGES: tuple[str, ...]  # distributions pinned in the package's requirements

    def matches(self, model: Any) -> bool: ...

    def save(self, model: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
        """Write the model's files into ``folder``; return what ``load`` needs (YAML-safe)."""
        ...

    def load(self, folder: Path, options: dict[str, Any], trusted: bool) -> Any: ...

    def predict(self, raw: Any, data: Any) -> Any: ...


def get(name: str) -> Flavor:
    """The flavor module called ``name``; ValidationError naming the known ones."""
    module = MODULES.get(name) if isinstance(name, str) else None
    if module is None:
        raise ValidationError(
            f"Unknown model flavor {name!r}.",
            hint=f"Use one of: {', '.join(MODULES)}.",
            flavor=str(name),
        )
    return cast(Flavor, importlib.import_module(module))


def detect(model: Any) -> Flavor:
    """The flavor that saves ``model``: ONNX, PyTorch, scikit-learn, else anything with predict."""
    for name in DETECT_ORDER:
        flavor = get(name)
        if flavor.matches(model):
            return flavor
    raise ValidationError(
        f"Cannot tell how to save a {type(model).__module__}.{type(model).__qualname__}: "
        "it is no scikit-learn estimator, torch.nn.Module or ONNX model, and has no "
        "predict() method.",
        hint="Wrap it in a class with a predict(data) method (the generic flavor), or pass "
        f"flavor= one of {', '.join(MODULES)}.",
    )


def require(module: str, flavor: str, extra: str | None, package: str | None = None) -> ModuleType:
    """Import ``module`` for ``flavor``; DependencyError naming what to install if missing."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = (exc.name or module).split(".")[0]
        # the module itself, or a library it needs (then name that one)
        what = (package or missing) if missing == module.split(".")[0] else missing
        what = _PIP_NAMES.get(what, what)
        install = f"pip install 'loom[{extra}]'" if extra else f"pip install {what}"
        raise DependencyError(
            f"The {flavor} flavor needs the Python package {what!r}, which is not installed "
            f"here (import of {missing!r} failed).",
            hint=f"Install it: {install}",
            package=what,
        ) from None


def mro_modules(model: Any) -> set[str]:
    """The top-level packages of the classes ``model`` is an instance of (cheap: no imports)."""
    return {c.__module__.split(".")[0] for c in type(model).__mro__}
