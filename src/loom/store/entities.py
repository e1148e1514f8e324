"""The plain entities the store returns; they live in :mod:`loom.entities` (layer 0).

Kept as an import path: ``from loom.store.entities import Run`` still works.
"""

from __future__ import annotations

from loom.entities import (
    AliasEvent,
    AliasEventKind,
    Artifact,
    DataLink,
    Experiment,
    Lifecycle,
    LoggedModel,
    Metric,
    ModelVersion,
    Page,
    RegisteredModel,
    Run,
    RunInput,
    RunOutput,
    RunStatus,
    ViewType,
)

__all__ = [
    "AliasEvent",
    "AliasEventKind",
    "Artifact",
    "DataLink",
    "Experiment",
    "Lifecycle",
    "LoggedModel",
    "Metric",
    "ModelVersion",
    "Page",
    "RegisteredModel",
    "Run",
    "RunInput",
    "RunOutput",
    "RunStatus",
    "ViewType",
]
