"""What a signed-in user may do: READ < EDIT < MANAGE per experiment and per
registered model, admins everything.

A user's level on a resource is their grant there, else the server's
``default_permission`` (READ unless set otherwise); whoever creates an
experiment or a model gets MANAGE on it. :func:`authorize` turns an endpoint's
:class:`~loom.server.routing.Access` into the resource it names: it must
resolve the same resource the handler will act on, so it reads the request's
fields exactly as the handlers do.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

from loom.errors import ValidationError
from loom.server.auth.credentials import ADMIN_KEY, unauthenticated
from loom.server.guard import Forbidden
from loom.server.routing import LEVELS, MANAGE, READ, Access, Ctx, Msg

DEFAULT_EXPERIMENT = "0"  # what runs/create uses when no experiment_id is sent


def rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else 0


def unrestricted(ctx: Ctx) -> bool:
    """Auth is off, or the caller is an admin."""
    if ctx.user is None:
        if ctx.services.settings.auth:
            raise unauthenticated()
        return True
    return bool(ctx.request.scope.get(ADMIN_KEY))


def authorize(ctx: Ctx, access: Access, msg: Msg) -> None:
    """Nothing if the caller may make this call; a 403 (PERMISSION_DENIED) if not.

    A resource that doesn't exist passes: the handler answers its 404."""
    if unrestricted(ctx) or access.kind == "any":
        return
    if access.kind == "admin":
        raise Forbidden(f"Only an admin may do this; {ctx.user} is not one.")
    found = _grant(ctx, access, msg)
    if found is not None:
        kind, resource, granted = found
        check(
            ctx, kind, resource, granted or ctx.services.settings.default_permission, access.level
        )


def _grant(ctx: Ctx, access: Access, msg: Msg) -> tuple[str, str, str | None] | None:
    """(permission kind, resource, the caller's grant there) for the resource the call
    acts on; None when it names nothing that exists."""
    key, store, user = access.key or "", ctx.store, str(ctx.user)
    if access.kind in ("run", "logged_model"):
        if access.kind == "run":
            run_id = msg.text(key) or msg.text("run_uuid")  # as runs.run_id reads it
            owner = store.run_grant(user, run_id) if run_id else None
        else:
            model_id = msg.text(key)
            owner = store.logged_model_grant(user, model_id) if model_id else None
        return None if owner is None else ("experiment", owner[0], owner[1])
    if access.kind == "experiment":
        resource = experiment_key(msg.text(key) or DEFAULT_EXPERIMENT)
    elif access.kind == "experiment_name":
        found = store.get_experiment_by_name(msg.text(key, default=""))
        if found is None:
            return None
        resource = found.experiment_id
    elif access.kind == "artifact_path":
        resource = _artifact_experiment(ctx, msg.text(key, default=""))
    elif access.kind == "model":
        resource = msg.text(key)
        if not resource:
            return None
        return "model", resource, store.grant_of(user, "model", resource)
    else:
        raise Forbidden(f"This call's access rule ({access.kind}) is unknown; refused.")
    return "experiment", resource, store.grant_of(user, "experiment", resource)


def _artifact_experiment(ctx: Ctx, path: str) -> str:
    """Artifact paths start with their experiment's id (``3/<run_id>/artifacts/…``);
    nothing in them may step out of it, not even once more percent-decoded."""
    parts = path.strip("/").split("/")
    if parts == [""]:
        raise Forbidden(f"Only an admin may list the artifact root; {ctx.user} is not one.")
    for candidate in (parts, unquote(path).strip("/").split("/")):
        if any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in candidate):
            raise ValidationError(f"Invalid artifact path {path!r}.")
    if not _ascii_digits(parts[0]):
        raise Forbidden(f"{ctx.user} may not reach artifacts at {path!r}.")
    return experiment_key(parts[0])


def experiment_key(text: str) -> str:
    """An experiment id as grants name it: the store reads "007" as 7, so a grant on
    "7" must be the one that counts for it."""
    return str(int(text)) if _ascii_digits(text) and len(text) <= 18 else text


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "²".isdigit(), but int("²") fails


def levels(ctx: Ctx, kind: str, resources: Iterable[str]) -> dict[str, str]:
    """The caller's level on each resource: their grant, else the server's default."""
    names = {str(r): experiment_key(str(r)) if kind == "experiment" else str(r) for r in resources}
    default = ctx.services.settings.default_permission
    assert ctx.user is not None
    granted = ctx.store.permissions(ctx.user, kind, list(names.values())) if names else {}
    return {r: granted.get(key, default) for r, key in names.items()}


def require(ctx: Ctx, kind: str, resources: Iterable[str], level: str) -> None:
    if unrestricted(ctx):
        return
    for resource, have in levels(ctx, kind, resources).items():
        check(ctx, kind, resource, have, level)


def check(ctx: Ctx, kind: str, resource: str, have: str, need: str) -> None:
    if rank(have) < rank(need):
        noun = "experiment" if kind == "experiment" else "registered model"
        flag = "--experiment" if kind == "experiment" else "--model"
        raise Forbidden(
            f"{ctx.user} has {have} on {noun} {resource!r}; this call needs {need}.",
            hint=f"An admin can grant it: loom server grant {ctx.user} {need} {flag} {resource}",
        )


def readable(ctx: Ctx, kind: str, resources: Iterable[str]) -> set[str]:
    names = list(resources)
    if unrestricted(ctx):
        return set(names)
    return {r for r, have in levels(ctx, kind, names).items() if rank(have) >= rank(READ)}


def on_created(ctx: Ctx, kind: str, resource: str) -> None:
    """The creator of an experiment or registered model gets MANAGE on it."""
    if ctx.user is not None:
        ctx.store.set_permission(ctx.user, kind, resource, MANAGE)
