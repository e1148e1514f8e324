"""Loom's entities as MLflow's REST messages (proto3 JSON), and back.

>>> experiment_location("3")
'mlflow-artifacts:/3'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from loom.entities import DatasetInput, Experiment, Metric, Run
from loom.errors import ValidationError
from loom.server.routing import Msg

RUN_NAME_TAG = "mlflow.runName"
VIEW_TYPES = {"ACTIVE_ONLY": "active", "DELETED_ONLY": "deleted", "ALL": "all"}


def experiment_location(experiment_id: str) -> str:
    """Where an experiment's artifacts are, as the client sees it: the server's proxy."""
    return f"mlflow-artifacts:/{experiment_id}"


def run_artifact_uri(run: Run) -> str:
    return f"mlflow-artifacts:/{run.experiment_id}/{run.run_id}/artifacts"


def key_values(items: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in items.items()]


def experiment(e: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": e.experiment_id,
        "name": e.name,
        "artifact_location": experiment_location(e.experiment_id),
        "lifecycle_stage": str(e.lifecycle_stage),
        "creation_time": e.creation_time,
        "last_update_time": e.last_update_time,
        "tags": key_values(e.tags),
    }


def run_info(r: Run) -> dict[str, Any]:
    info: dict[str, Any] = {
        "run_id": r.run_id,
        "run_uuid": r.run_id,
        "run_name": r.name,
        "experiment_id": r.experiment_id,
        "user_id": r.user or "",
        "status": str(r.status),
        "start_time": r.start_time,
        "artifact_uri": run_artifact_uri(r),
        "lifecycle_stage": str(r.lifecycle_stage),
    }
    if r.end_time is not None:
        info["end_time"] = r.end_time
    return info


def run(
    r: Run,
    latest: Sequence[Metric] = (),
    datasets: Sequence[DatasetInput] = (),
    model_outputs: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """MLflow's Run message; ``latest`` are the run's latest points (with step and time)."""
    tags = dict(r.tags)
    tags.setdefault(RUN_NAME_TAG, r.name)
    return {
        "info": run_info(r),
        "data": {
            "metrics": [metric(m) for m in latest],
            "params": key_values(r.params),
            "tags": key_values(tags),
        },
        "inputs": {"dataset_inputs": [dataset_input(d) for d in datasets]},
        "outputs": {"model_outputs": list(model_outputs)},
    }


def dataset_input(d: DatasetInput) -> dict[str, Any]:
    dataset: dict[str, Any] = {
        "name": d.name,
        "digest": d.digest,
        "source_type": d.source_type,
        "source": d.source,
    }
    if d.schema is not None:
        dataset["schema"] = d.schema
    if d.profile is not None:
        dataset["profile"] = d.profile
    tags = dict(d.tags)
    if d.context is not None:
        tags["mlflow.data.context"] = d.context
    return {"tags": key_values(tags), "dataset": dataset}


def metric(m: Metric) -> dict[str, Any]:
    return {"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step}


def pairs(msg: Msg, field: str, *, value_required: bool = True) -> dict[str, str]:
    """``[{"key": k, "value": v}, …]`` as a dict; a repeated key keeps its last value."""
    out: dict[str, str] = {}
    for item in msg.objects(field):
        key = item.text("key", required=True)
        value = item.text("value", required=value_required, default="")
        out[key] = value
    return out


def metric_from(msg: Msg, now: int) -> Metric:
    return Metric(
        key=msg.text("key", required=True),
        value=msg.number("value", required=True),
        timestamp=msg.integer("timestamp", default=now),
        step=msg.integer("step", default=0),
    )


def view_type(msg: Msg, field: str) -> str:
    raw = msg.text(field, default="ACTIVE_ONLY")
    if isinstance(raw, str) and raw.isdigit():  # proto enums may travel as numbers
        raw = {"1": "ACTIVE_ONLY", "2": "DELETED_ONLY", "3": "ALL"}.get(raw, raw)
    if raw not in VIEW_TYPES:
        raise ValidationError(
            f"Invalid view type {raw!r}.", hint="Use ACTIVE_ONLY, DELETED_ONLY or ALL."
        )
    return VIEW_TYPES[raw]


def dataset_from(item: Msg) -> DatasetInput:
    raw = item.get("dataset")
    if not isinstance(raw, dict):
        raise ValidationError("Each dataset input needs a 'dataset' object.")
    d = Msg(raw)
    tags = pairs(item, "tags")
    context = tags.pop("mlflow.data.context", None)
    return DatasetInput(
        name=d.text("name", required=True),
        digest=d.text("digest", required=True),
        source_type=d.text("source_type", required=True),
        source=d.text("source", required=True),
        schema=d.text("schema"),
        profile=d.text("profile"),
        context=context,
        tags=tags,
    )
