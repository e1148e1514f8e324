"""MLflow's logging calls: log-metric, log-parameter, log-batch, log-inputs, metric history."""

from __future__ import annotations

import time
from typing import Any

from loom.errors import ValidationError
from loom.server.mlflow import wire
from loom.server.mlflow.runs import run_id
from loom.server.routing import EDIT, READ, Access, Ctx, Endpoint, Msg

# MLflow's log-batch limits (mlflow/utils/validation.py)
MAX_METRICS, MAX_PARAMS, MAX_TAGS, MAX_ENTITIES = 1000, 100, 100, 1000
MAX_HISTORY_PAGE = 25_000


def _now() -> int:
    return int(time.time() * 1000)


def log_metric(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.log_batch(run_id(msg), [wire.metric_from(msg, _now())])
    return {}


def log_param(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    key = msg.text("key", required=True)
    ctx.store.log_batch(run_id(msg), params={key: msg.text("value", default="")})
    return {}


def log_batch(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    rid = run_id(msg)
    metrics, params, tags = msg.array("metrics"), msg.array("params"), msg.array("tags")
    _limit("metrics", len(metrics), MAX_METRICS)
    _limit("params", len(params), MAX_PARAMS)
    _limit("tags", len(tags), MAX_TAGS)
    _limit("metrics, params and tags together", len(metrics) + len(params) + len(tags), 1000)
    now = _now()
    points = [wire.metric_from(m, now) for m in msg.objects("metrics")]
    param_values = _unique_params(msg)
    tag_values = wire.pairs(msg, "tags", value_required=False)
    if wire.RUN_NAME_TAG in tag_values:
        ctx.store.update_run(rid, name=tag_values[wire.RUN_NAME_TAG])
    ctx.store.log_batch(rid, points, param_values, tag_values)
    return {}


def _limit(what: str, n: int, limit: int) -> None:
    if n > limit:
        raise ValidationError(
            f"A batch logging request can contain at most {limit} {what}. Got {n} {what}.",
            hint="Split the batch; MLflow's client does this itself.",
        )


def _unique_params(msg: Msg) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in msg.objects("params"):
        key = item.text("key", required=True)
        value = item.text("value", default="")
        if key in out and out[key] != value:
            raise ValidationError(
                f"Duplicate parameter keys with different values in one batch: {key!r}.",
                hint="Log each parameter once per batch.",
            )
        out[key] = value
    return out


def log_inputs(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    rid = run_id(msg)
    datasets = [wire.dataset_from(item) for item in msg.objects("datasets")]
    if datasets:
        ctx.store.log_datasets(rid, datasets)
    else:
        ctx.store.get_run(rid)  # an unknown run is still a 404
    return {}


def get_history(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    rid, key = run_id(msg), msg.text("metric_key", required=True)
    size = msg.integer("max_results", default=MAX_HISTORY_PAGE)
    if size < 1 or size > MAX_HISTORY_PAGE:
        raise ValidationError(f"max_results must be between 1 and {MAX_HISTORY_PAGE}.")
    start = _offset(msg.text("page_token"))
    points = ctx.store.get_metric_history(rid, key)
    page = points[start : start + size]
    out: dict[str, Any] = {"metrics": [wire.metric(m) for m in page]}
    if start + size < len(points):
        out["next_page_token"] = str(start + size)
    return out


def _offset(token: str | None) -> int:
    if not token:
        return 0
    if not (token.isascii() and token.isdigit()):
        raise ValidationError(f"Invalid page token {token!r}.", hint="Pass the token as given.")
    return int(token)


def endpoints() -> list[Endpoint]:
    edit = Access("run", EDIT, "run_id")
    return [
        Endpoint("POST", "runs/log-metric", log_metric, edit, small=True),
        Endpoint("POST", "runs/log-parameter", log_param, edit, small=True),
        Endpoint("POST", "runs/log-batch", log_batch, edit, small=True),
        Endpoint("POST", "runs/log-inputs", log_inputs, edit, small=True),
        Endpoint("GET", "metrics/get-history", get_history, Access("run", READ, "run_id")),
    ]
