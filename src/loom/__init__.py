"""Loom: version ML work — experiments, models, data and pipelines on one lineage graph.

``import loom`` is kept cheap: submodules and the fluent tracking API load on
first use (PEP 562), so a script that never logs pays nothing for SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = {"data", "objects", "store", "tracking", "registry", "errors", "config"}

# Fluent tracking API, resolved lazily from loom.tracking.fluent.
_FLUENT = {
    "set_experiment",
    "start_run",
    "end_run",
    "active_run",
    "log_param",
    "log_params",
    "log_metric",
    "log_metrics",
    "log_input",
    "set_tag",
    "set_tags",
    "log_artifact",
    "log_artifacts",
    "flush",
    "set_tracking_uri",
    "get_tracking_uri",
}

# The model registry's fluent functions, from loom.registry.api (flavors load on use).
_REGISTRY = {"log_model", "register_model", "load_model", "set_alias"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"loom.{name}")
    if name == "Client":
        return importlib.import_module("loom.tracking.client").Client
    if name in _FLUENT:
        return getattr(importlib.import_module("loom.tracking.fluent"), name)
    if name in _REGISTRY:
        return getattr(importlib.import_module("loom.registry.api"), name)
    raise AttributeError(f"module 'loom' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES | _FLUENT | _REGISTRY | {"Client"})
