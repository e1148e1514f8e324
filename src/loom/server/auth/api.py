"""MLflow's auth REST calls, as ``mlflow.server.auth.client.AuthServiceClient`` sends them.

Users (``/api/2.0/mlflow/users/…``): create, get, current, update-password,
update-admin, delete. Grants (``/api/3.0/mlflow/users/permissions/…``): grant,
revoke, get. Managing users is for admins (a user may read themselves and change
their own password, given the current one); granting on an experiment or a model
needs MANAGE there, as in MLflow.
"""

from __future__ import annotations

from typing import Any

from loom.errors import NotFoundError, ValidationError
from loom.server.auth import passwords
from loom.server.auth.permissions import LEVELS, experiment_key, rank, require, unrestricted
from loom.server.guard import Forbidden
from loom.server.routing import ADMIN, ANY_USER, MANAGE, READ, Ctx, Endpoint, Msg
from loom.store.users import User

_RESOURCE_KINDS = {"experiment": "experiment", "registered_model": "model"}


def _user_json(user: User) -> dict[str, Any]:
    # MLflow's users have integer ids; Loom's are known by name, which serves as the id
    return {"id": user.name, "username": user.name, "is_admin": user.is_admin}


def _get(ctx: Ctx, name: str) -> User:
    user = ctx.store.get_user(name)
    if user is None:
        raise NotFoundError(f"No user named {name!r}.")
    return user


def _self_or_admin(ctx: Ctx, name: str) -> None:
    if not unrestricted(ctx) and ctx.user != name:
        raise Forbidden(f"Only an admin may do this for another user than {ctx.user}.")


def create_user(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name = passwords.check_user_name(msg.text("username", required=True))
    hashed = passwords.hash_password(msg.text("password", required=True))
    return {"user": _user_json(ctx.store.create_user(name, hashed))}


def get_user(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name = msg.text("username", required=True)
    _self_or_admin(ctx, name)
    return {"user": _user_json(_get(ctx, name))}


def current_user(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    if ctx.user is None:
        raise ValidationError("Auth is off on this server: nobody is signed in.")
    return {"user": _user_json(_get(ctx, ctx.user))}


def update_password(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name = msg.text("username", required=True)
    password = msg.text("password", required=True)
    _self_or_admin(ctx, name)
    user = _get(ctx, name)
    if not unrestricted(ctx):  # changing one's own: prove it is you, not a stolen session
        current = msg.text("current_password", default="")
        if not passwords.verify(user.password_hash, current):
            raise Forbidden("The current password is wrong.")
    ctx.store.update_user(name, password_hash=passwords.hash_password(password))
    return {}


def update_admin(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name = msg.text("username", required=True)
    if "is_admin" not in msg:
        raise ValidationError("Missing value for required parameter 'is_admin'.")
    ctx.store.update_user(name, is_admin=msg.flag("is_admin"))
    return {}


def delete_user(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.delete_user(msg.text("username", required=True))
    return {}


def _resource(msg: Msg) -> tuple[str, str]:
    kind_name = msg.text("resource_type", required=True)
    kind = _RESOURCE_KINDS.get(kind_name)
    if kind is None:
        raise ValidationError(
            f"Unknown resource_type {kind_name!r}.", hint="Use experiment or registered_model."
        )
    resource = msg.text("resource_id", required=True)
    return kind, experiment_key(resource) if kind == "experiment" else resource


def grant(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    kind, resource = _resource(msg)
    require(ctx, kind, [resource], MANAGE)
    level = msg.text("permission", required=True).upper()
    if level not in LEVELS:
        raise ValidationError(f"Unknown permission {level!r}: one of {', '.join(LEVELS)}.")
    ctx.store.set_permission(msg.text("username", required=True), kind, resource, level)
    return {}


def revoke(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    kind, resource = _resource(msg)
    require(ctx, kind, [resource], MANAGE)
    ctx.store.delete_permission(msg.text("username", required=True), kind, resource)
    return {}


def get_permission(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    kind, resource = _resource(msg)
    name = msg.text("username", required=True)
    if ctx.user != name:
        require(ctx, kind, [resource], MANAGE)
    user = _get(ctx, name)
    if user.is_admin:
        level = MANAGE
    else:
        granted = ctx.store.permissions(name, kind, [resource])
        level = granted.get(resource, ctx.services.settings.default_permission)
    return {"allowed": rank(level) >= rank(READ), "permission": level}


def endpoints() -> list[Endpoint]:
    """Under ``/api/2.0/mlflow/`` (MLflow's user calls)."""
    return [
        Endpoint("POST", "users/create", create_user, ADMIN),
        Endpoint("GET", "users/get", get_user, ANY_USER),
        Endpoint("GET", "users/current", current_user, ANY_USER),
        Endpoint("PATCH", "users/update-password", update_password, ANY_USER),
        Endpoint("PATCH", "users/update-admin", update_admin, ADMIN),
        Endpoint("DELETE", "users/delete", delete_user, ADMIN),
    ]


def v3_endpoints() -> list[Endpoint]:
    """Under ``/api/3.0/mlflow/`` (MLflow 3's per-user grants); the handlers check MANAGE."""
    return [
        Endpoint("POST", "users/permissions/grant", grant, ANY_USER),
        Endpoint("POST", "users/permissions/revoke", revoke, ANY_USER),
        Endpoint("GET", "users/permissions/get", get_permission, ANY_USER),
    ]
