"""The one place the native API asks :mod:`loom.server.auth` whether a call may run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loom.api import codec
from loom.api.routes import Route
from loom.entities import DataLink, Experiment, ModelVersion, RegisteredModel, Run
from loom.errors import LoomError, NotFoundError
from loom.server import auth
from loom.server.http import Request as LoomRequest
from loom.server.routing import READ, Access, Ctx, Msg
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


def before(ctx: Ctx, name: str, args: dict[str, Any]) -> Callable[[Any], None]:
    """Checks on the resources a call names in a list (not one ``key``); returns what
    to do with the call's result (the creator of an experiment or a model manages it)."""
    store = ctx.services.store
    if ctx.user is None:  # auth is off
        return _nothing
    if name == "search_runs":
        auth.require_experiments(ctx, [str(e) for e in args["experiment_ids"]], READ)
    elif name == "create_experiment" or (
        name == "get_or_create_experiment" and store.get_experiment_by_name(args["name"]) is None
    ):
        return lambda e: auth.on_created(ctx, "experiment", e.experiment_id)
    elif name in ("create_registered_model", "create_model_version") and not _model_exists(
        store, args["name"]
    ):
        return lambda _: auth.on_created(ctx, "model", args["name"])
    return _nothing


def _nothing(result: Any) -> None:
    return None


def _model_exists(store: Any, name: str) -> bool:
    try:
        store.get_registered_model(name)
    except NotFoundError:
        return False
    except LoomError:  # a bad name: the call itself says so
        return True
    return True


def visible(ctx: Ctx, name: str, route: Route, result: Any) -> Any:
    """What a call that names no one resource answers, less what the caller can't read:
    experiments and runs of experiments without READ are left out (a lookup by name
    finds nothing; get-or-create is refused)."""
    if route.kind != "any" or ctx.user is None:
        return result
    if isinstance(result, Experiment):
        if name == "get_experiment_by_name":
            readable = auth.readable_experiments(ctx, [result.experiment_id])
            return result if result.experiment_id in readable else None
        auth.require_experiments(ctx, [result.experiment_id], READ)
    if isinstance(result, list) and result and isinstance(result[0], Experiment | Run):
        ids = sorted({x.experiment_id for x in result})
        readable = auth.readable_experiments(ctx, ids)
        return [x for x in result if x.experiment_id in readable]
    if isinstance(result, list) and result and isinstance(result[0], DataLink):
        return _readable_links(ctx, result)
    if (
        isinstance(result, list)
        and result
        and isinstance(result[0], ModelVersion | RegisteredModel)
    ):
        names = auth.readable_models(ctx, sorted({v.name for v in result}))
        return [v for v in result if v.name in names]
    return result


def _readable_links(ctx: Ctx, links: list[DataLink]) -> list[DataLink]:
    """Lineage edges of runs the caller may read: a run's inputs, outputs and artifacts
    (paths and hashes) are its experiment's to show."""
    runs = ctx.services.store.get_runs(sorted({link.run_id for link in links}))
    experiment = {r.run_id: r.experiment_id for r in runs}
    readable = auth.readable_experiments(ctx, sorted(set(experiment.values())))
    return [link for link in links if experiment.get(link.run_id) in readable]
