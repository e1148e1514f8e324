"""MLflow's run calls: create, get, update, delete, restore, search, tags."""

from __future__ import annotations

from typing import Any

from loom.entities import Run, RunStatus, ViewType
from loom.errors import ValidationError
from loom.server.mlflow import wire
from loom.server.mlflow.experiments import _max_results
from loom.server.routing import EDIT, MANAGE, READ, Access, Ctx, Endpoint, Msg


def run_id(msg: Msg) -> str:
    """``run_id``, or the older ``run_uuid`` MLflow clients still send."""
    value = msg.text("run_id") or msg.text("run_uuid")
    if not value:
        from loom.server.routing import missing

        raise missing("run_id")
    return value


def full(ctx: Ctx, runs: list[Run]) -> list[dict[str, Any]]:
    """Runs as MLflow's Run messages, with their dataset inputs and model outputs."""
    ids = [r.run_id for r in runs]
    latest = ctx.store.latest_metrics(ids)
    datasets = ctx.store.list_datasets(ids)
    from loom.server.mlflow import logged_models

    outputs = logged_models.model_outputs(ctx, ids)
    return [
        wire.run(r, latest[r.run_id], datasets[r.run_id], outputs.get(r.run_id, ())) for r in runs
    ]


def create(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    tags = wire.pairs(msg, "tags")
    name = msg.text("run_name") or tags.get(wire.RUN_NAME_TAG) or None
    user = ctx.user or msg.text("user_id") or tags.get("mlflow.user")
    r = ctx.store.create_run(
        msg.text("experiment_id", default="0"),
        name=name,
        start_time=msg.integer("start_time"),
        user=user,
        tags=tags or None,
    )
    return {"run": full(ctx, [r])[0]}


def get(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    return {"run": full(ctx, [ctx.store.get_run(run_id(msg))])[0]}


def update(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    rid = run_id(msg)
    status = msg.text("status")
    if status is not None and status not in RunStatus.__members__:
        raise ValidationError(
            f"Invalid run status {status!r}.",
            hint="Use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.",
        )
    ctx.store.update_run(
        rid, status=status, end_time=msg.integer("end_time"), name=msg.text("run_name") or None
    )
    return {"run_info": wire.run_info(ctx.store.get_run(rid))}


def delete(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.delete_run(run_id(msg))
    return {}


def restore(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.restore_run(run_id(msg))
    return {}


def search(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    experiment_ids = [str(e) for e in msg.array("experiment_ids")]
    if not experiment_ids:
        raise ValidationError(
            "Missing value for required parameter 'experiment_ids'.",
            hint="Name at least one experiment id to search in.",
        )
    from loom.server import auth

    auth.require_experiments(ctx, experiment_ids, READ)
    page = ctx.store.search_runs(
        experiment_ids,
        msg.text("filter", default=""),
        order_by=[str(o) for o in msg.array("order_by")] or None,
        max_results=_max_results(msg, default=1000),
        page_token=msg.text("page_token") or None,
        view=ViewType(wire.view_type(msg, "run_view_type")),
    )
    out: dict[str, Any] = {"runs": full(ctx, page.items)}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


def set_tag(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    rid, key = run_id(msg), msg.text("key", required=True)
    value = msg.text("value", default="")
    if key == wire.RUN_NAME_TAG:  # MLflow keeps the run's name and this tag as one
        ctx.store.update_run(rid, name=value)
    ctx.store.log_batch(rid, tags={key: value})
    return {}


def delete_tag(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.delete_run_tag(run_id(msg), msg.text("key", required=True))
    return {}


def endpoints() -> list[Endpoint]:
    read = Access("run", READ, "run_id")
    edit = Access("run", EDIT, "run_id")
    return [
        Endpoint(
            "POST", "runs/create", create, Access("experiment", EDIT, "experiment_id"), small=True
        ),
        Endpoint("GET", "runs/get", get, read, small=True),
        Endpoint("POST", "runs/update", update, edit, small=True),
        Endpoint("POST", "runs/delete", delete, Access("run", MANAGE, "run_id")),
        Endpoint("POST", "runs/restore", restore, Access("run", MANAGE, "run_id")),
        Endpoint("POST", "runs/search", search, Access("any")),
        Endpoint("POST", "runs/set-tag", set_tag, edit, small=True),
        Endpoint("POST", "runs/delete-tag", delete_tag, edit, small=True),
    ]
