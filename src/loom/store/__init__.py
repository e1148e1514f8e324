"""SQL tracking store (layer 2): experiments, runs, params, metrics, tags, inputs, artifacts.

>>> from loom.store import open_store
>>> store = open_store("sqlite:////abs/path/loom.db")
"""

from __future__ import annotations

from loom.store.entities import (
    Artifact,
    Experiment,
    Lifecycle,
    Metric,
    Page,
    Run,
    RunInput,
    RunStatus,
    ViewType,
)
from loom.store.store import Store, open_store

__all__ = [
    "Artifact",
    "Experiment",
    "Lifecycle",
    "Metric",
    "Page",
    "Run",
    "RunInput",
    "RunStatus",
    "Store",
    "ViewType",
    "open_store",
]
