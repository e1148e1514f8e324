"""MLflow's experiment calls: create, get, get-by-name, search, update, delete, restore, tags."""

from __future__ import annotations

from typing import Any

from loom.entities import ViewType
from loom.errors import NotFoundError, ValidationError
from loom.server.mlflow import wire
from loom.server.routing import ANY_USER, EDIT, MANAGE, Access, Ctx, Endpoint, Msg

MAX_SEARCH = 50_000  # MLflow's SEARCH_MAX_RESULTS_THRESHOLD


def create(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name = msg.text("name", required=True)
    location = msg.text("artifact_location")
    if location:
        # MLflow stores any location a client names, which let clients point the
        # server at its own files (CVE-2023-6909, CVE-2024-2928). Here the server decides.
        raise ValidationError(
            "This server keeps artifacts in its own store; an artifact_location can't be set.",
            hint="Create the experiment without artifact_location.",
        )
    e = ctx.store.create_experiment(name, wire.pairs(msg, "tags") or None)
    if ctx.user is not None:
        from loom.server import auth

        auth.on_created(ctx, "experiment", e.experiment_id)
    return {"experiment_id": e.experiment_id}


def get(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    e = ctx.store.get_experiment(msg.text("experiment_id", required=True))
    return {"experiment": wire.experiment(e)}


def get_by_name(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name = msg.text("experiment_name", required=True)
    e = ctx.store.get_experiment_by_name(name)
    if e is None:
        raise NotFoundError(f"Could not find experiment with name '{name}'")
    return {"experiment": wire.experiment(e)}


def search(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    max_results = _max_results(msg, default=1000)
    page = ctx.store.search_experiments(
        ViewType(wire.view_type(msg, "view_type")),
        msg.text("filter", default=""),
        order_by=[str(o) for o in msg.array("order_by")] or None,
        max_results=max_results,
        page_token=msg.text("page_token") or None,
    )
    from loom.server import auth

    readable = auth.readable_experiments(ctx, [e.experiment_id for e in page.items])
    out: dict[str, Any] = {
        "experiments": [wire.experiment(e) for e in page.items if e.experiment_id in readable]
    }
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


def _max_results(msg: Msg, default: int) -> int:
    n = msg.integer("max_results", default=default)
    if n < 1 or n > MAX_SEARCH:
        raise ValidationError(
            f"Invalid value {n} for parameter 'max_results' supplied. It must be at most "
            f"{MAX_SEARCH} and at least 1."
        )
    return n


def update(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.rename_experiment(
        msg.text("experiment_id", required=True), msg.text("new_name", required=True)
    )
    return {}


def delete(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.delete_experiment(msg.text("experiment_id", required=True))
    return {}


def restore(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.restore_experiment(msg.text("experiment_id", required=True))
    return {}


def set_tag(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.set_experiment_tag(
        msg.text("experiment_id", required=True),
        msg.text("key", required=True),
        msg.text("value", default=""),
    )
    return {}


def delete_tag(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.delete_experiment_tag(
        msg.text("experiment_id", required=True), msg.text("key", required=True)
    )
    return {}


def endpoints() -> list[Endpoint]:
    read = Access("experiment", "READ", "experiment_id")
    edit = Access("experiment", EDIT, "experiment_id")
    manage = Access("experiment", MANAGE, "experiment_id")
    return [
        Endpoint("POST", "experiments/create", create, ANY_USER, small=True),
        Endpoint("GET", "experiments/get", get, read, small=True),
        Endpoint(
            "GET",
            "experiments/get-by-name",
            get_by_name,
            Access("experiment_name", "READ", "experiment_name"),
        ),
        Endpoint("GET", "experiments/search", search, ANY_USER),
        Endpoint("POST", "experiments/search", search, ANY_USER),
        Endpoint("POST", "experiments/update", update, edit),
        Endpoint("POST", "experiments/delete", delete, manage),
        Endpoint("POST", "experiments/restore", restore, manage),
        Endpoint("POST", "experiments/set-experiment-tag", set_tag, edit, small=True),
        Endpoint("POST", "experiments/delete-experiment-tag", delete_tag, edit),
    ]
