"""The artifact proxy, ``/api/2.0/mlflow-artifacts/…`` (placeholder)."""

from __future__ import annotations

from loom.server.routing import Endpoint


def endpoints() -> list[Endpoint]:
    return []
