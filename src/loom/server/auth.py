"""Authentication and authorization (placeholder until the auth module lands).

``authenticate`` returns the signed-in user's name (None when auth is off);
``authorize`` raises a 403 when that user lacks the endpoint's access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loom.server.http import Request
from loom.server.routing import Access, Ctx, Msg

if TYPE_CHECKING:
    from loom.server.services import Services


def authenticate(services: Services, request: Request) -> str | None:
    return None


def authorize(ctx: Ctx, access: Access, msg: Msg) -> None:
    return None


def on_created(ctx: Ctx, kind: str, resource: str) -> None:
    """The creator of an experiment or registered model gets MANAGE on it."""


def readable_experiments(ctx: Ctx, experiment_ids: list[str]) -> set[str]:
    return set(experiment_ids)


def require_experiments(ctx: Ctx, experiment_ids: list[str], level: str) -> None:
    return None


def readable_models(ctx: Ctx, names: list[str]) -> set[str]:
    """Which of these registered models the caller may read (search filters with it)."""
    return set(names)


def user_count(store: Any) -> int:
    return 0
