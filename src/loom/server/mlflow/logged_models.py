"""MLflow 3's logged models (``/logged-models``) and run outputs (placeholder)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loom.server.routing import Ctx, Endpoint


def model_outputs(ctx: Ctx, run_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each run's ``{model_id, step}`` outputs."""
    return {}


def endpoints() -> list[Endpoint]:
    return []
