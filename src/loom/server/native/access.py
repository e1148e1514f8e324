"""The one place the native API asks :mod:`loom.server.auth` whether a call may run."""

from __future__ import annotations

from typing import Any

from loom.api import codec
from loom.api.routes import Route
from loom.server import auth
from loom.server.http import Request as LoomRequest
from loom.server.routing import Access, Ctx, Msg
from loom.server.services import Services


def context(services: Services, request: Any) -> Ctx:
    """The caller (from app.py's authentication) as the MLflow routes see it."""
    user = request.scope.get("state", {}).get("loom_user")
    req = LoomRequest(request.scope, request.receive)
    req.user = user
    return Ctx(services, req, user)


def authorize(ctx: Ctx, route: Route, args: dict[str, Any]) -> None:
    """PermissionError (403) unless the caller has the route's access to its resource."""
    access = Access(route.kind, route.level, route.key)
    auth.authorize(ctx, access, Msg(codec.encode(args)))
