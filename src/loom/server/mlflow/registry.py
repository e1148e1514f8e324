"""MLflow's model registry calls (placeholder)."""

from __future__ import annotations

from loom.server.routing import Endpoint


def endpoints() -> list[Endpoint]:
    return []
