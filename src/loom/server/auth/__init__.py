"""Authentication and authorization for the team server.

``authenticate`` returns the signed-in user's name (None when auth is off) or
raises a 401; ``authorize`` raises a 403 when that user lacks an endpoint's
access. Passwords (argon2id) are in :mod:`.passwords`, API tokens in
:mod:`.tokens`, who is calling in :mod:`.credentials`, levels in
:mod:`.permissions`.
"""

from __future__ import annotations

from typing import Any

from loom.server.auth.credentials import CHALLENGE, Unauthenticated, authenticate
from loom.server.auth.permissions import authorize, on_created, readable, require
from loom.server.routing import Ctx

__all__ = [
    "CHALLENGE",
    "Unauthenticated",
    "authenticate",
    "authorize",
    "on_created",
    "readable_experiments",
    "readable_models",
    "require_experiments",
    "require_models",
    "user_count",
]


def readable_experiments(ctx: Ctx, experiment_ids: list[str]) -> set[str]:
    """Those of ``experiment_ids`` the caller may read (search filters by it)."""
    return readable(ctx, "experiment", experiment_ids)


def readable_models(ctx: Ctx, names: list[str]) -> set[str]:
    """Those registered models the caller may read."""
    return readable(ctx, "model", names)


def require_experiments(ctx: Ctx, experiment_ids: list[str], level: str) -> None:
    """A 403 unless the caller has ``level`` on every one of ``experiment_ids``."""
    require(ctx, "experiment", experiment_ids, level)


def require_models(ctx: Ctx, names: list[str], level: str) -> None:
    require(ctx, "model", names, level)


def user_count(store: Any) -> int:
    """How many users exist (the server's start-up decides on auth by it)."""
    return int(store.user_count())
