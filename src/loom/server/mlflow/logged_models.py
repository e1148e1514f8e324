"""MLflow 3's logged models (``/logged-models``) and run outputs.

``mlflow.<flavor>.log_model`` creates a logged model (``PENDING``), uploads the
package through the artifact proxy into ``<exp>/models/<model_id>/artifacts``,
then finalizes it. At ``READY`` the server turns the uploaded files into a Loom
tree object, so the model is one content hash as Loom's own models are: a model
version can name it, and the run records it as a ``model`` output for lineage.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from loom.entities import LoggedModel, RunOutput
from loom.errors import ConflictError, NotFoundError, ValidationError
from loom.objects.tree import Tree, TreeEntry
from loom.server.mlflow import wire
from loom.server.routing import ANY_USER, EDIT, MANAGE, READ, Access, Ctx, Endpoint, Msg
from loom.store.logged_models import DELETED
from loom.store.validation import validate_params

# MLflow's LoggedModelStatus enum on the wire <-> Loom's status
_TO_WIRE = {
    "PENDING": "LOGGED_MODEL_PENDING",
    "READY": "LOGGED_MODEL_READY",
    "FAILED": "LOGGED_MODEL_UPLOAD_FAILED",
}
_FROM_WIRE = {v: k for k, v in _TO_WIRE.items()} | {"1": "PENDING", "2": "READY", "3": "FAILED"}
PLACEHOLDER_FLAVOR = "mlflow"  # until finalize reads the MLmodel file's flavors
MLMODEL = "MLmodel"
_MLMODEL_MAX = 1024 * 1024
EMPTY_TREE = Tree.from_entries([]).oid
_FLAVOR = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def artifact_uri(lm: LoggedModel) -> str:
    return f"mlflow-artifacts:/{lm.experiment_id}/models/{lm.model_id}/artifacts"


def to_wire(lm: LoggedModel, params: dict[str, str]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model_id": lm.model_id,
        "experiment_id": lm.experiment_id,
        "name": lm.name,
        "creation_timestamp_ms": lm.creation_time,
        "last_updated_timestamp_ms": lm.last_update_time,
        "artifact_uri": artifact_uri(lm),
        "status": _TO_WIRE.get(lm.status, "LOGGED_MODEL_STATUS_UNSPECIFIED"),
        "tags": wire.key_values(lm.tags),
    }
    if lm.run_id:
        info["source_run_id"] = lm.run_id
    return {"info": info, "data": {"params": wire.key_values(params), "metrics": []}}


def _models(ctx: Ctx, models: Sequence[LoggedModel]) -> list[dict[str, Any]]:
    params = ctx.store.logged_model_params([m.model_id for m in models])
    return [to_wire(m, params[m.model_id]) for m in models]


def _get(ctx: Ctx, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
    lm = ctx.store.get_logged_model(model_id)
    if lm.status == DELETED and not allow_deleted:
        raise NotFoundError(f"Logged model {model_id} is deleted.", model_id=model_id)
    return lm


def model_outputs(ctx: Ctx, run_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each run's ``{model_id, step}`` outputs: the live models it is the source of."""
    out: dict[str, list[dict[str, Any]]] = {}
    for lm in ctx.store.runs_logged_models(list(run_ids)):
        out.setdefault(lm.run_id, []).append({"model_id": lm.model_id, "step": 0})
    return out


def logged_model_tree(ctx: Ctx, model_id: str) -> str:
    """The package tree of a READY logged model (what a model version names)."""
    lm = _get(ctx, model_id)
    if lm.status != "READY" or not lm.tree:
        raise ConflictError(
            f"Logged model {model_id} is {lm.status}, not READY: it has no fixed files yet.",
            hint="Register it once its upload has finished.",
        )
    return lm.tree


# -- handlers ---------------------------------------------------------------------------


def create(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name = msg.text("name") or f"model-{uuid.uuid4().hex[:8]}"
    params = validate_params(wire.pairs(msg, "params"))  # before the model exists
    lm = ctx.store.create_logged_model(
        msg.text("experiment_id", required=True),
        name,
        "",
        PLACEHOLDER_FLAVOR,
        run_id=msg.text("source_run_id") or None,
        tags=wire.pairs(msg, "tags") or None,
        status="PENDING",
    )
    if params:
        ctx.store.log_logged_model_params(lm.model_id, params)
    return {"model": _models(ctx, [lm])[0]}


def get(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    lm = _get(ctx, msg.text("model_id", required=True), allow_deleted=msg.flag("allow_deleted"))
    return {"model": _models(ctx, [lm])[0]}


def finalize(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    model_id = msg.text("model_id", required=True)
    raw = msg.text("status", required=True)
    status = _FROM_WIRE.get(raw)
    if status not in ("READY", "FAILED"):
        raise ValidationError(
            f"Invalid status {raw!r} for a finished logged model.",
            hint="Use LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.",
        )
    lm = _get(ctx, model_id)
    if status == "FAILED":
        lm = ctx.store.finalize_logged_model(model_id, "FAILED")
    else:
        lm = _make_ready(ctx, lm)
    return {"model": _models(ctx, [lm])[0]}


def _make_ready(ctx: Ctx, lm: LoggedModel) -> LoggedModel:
    """Fix the uploaded files as a tree object, read the flavor, record the run's output."""
    files = ctx.store.list_logged_model_files(lm.model_id)
    tree = Tree.from_entries(TreeEntry(f.path, f.hash, f.size) for f in files)
    ctx.services.blobs.put_bytes(tree.to_bytes())
    flavor = _flavor(ctx, {f.path: f for f in files}.get(MLMODEL))
    lm = ctx.store.finalize_logged_model(lm.model_id, "READY", tree=tree.oid, flavor=flavor)
    if lm.run_id and files:  # an external model has no files: nothing for lineage to join
        try:
            out = RunOutput(lm.name, tree.oid, tree.size, kind="model")
            ctx.store.log_outputs(lm.run_id, [out])
        except (ConflictError, NotFoundError):
            pass  # the run was deleted meanwhile: the model stands on its own
    return lm


def _flavor(ctx: Ctx, mlmodel: Any) -> str:
    """The MLmodel file's main flavor (``sklearn`` rather than ``python_function``)."""
    if mlmodel is None or mlmodel.size > _MLMODEL_MAX:
        return PLACEHOLDER_FLAVOR
    import yaml

    try:
        doc = yaml.safe_load(ctx.services.blobs.read_bytes(mlmodel.hash))
    except Exception:  # a client's file, or a missing object: any mess means no flavor
        return PLACEHOLDER_FLAVOR
    flavors = doc.get("flavors") if isinstance(doc, dict) else None
    if not isinstance(flavors, dict) or not flavors:
        return PLACEHOLDER_FLAVOR
    names = [str(k) for k in flavors if k != "python_function"] or ["python_function"]
    return names[0] if _FLAVOR.fullmatch(names[0]) else PLACEHOLDER_FLAVOR


def delete(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.delete_logged_model(msg.text("model_id", required=True))
    return {}


def log_params(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.log_logged_model_params(
        msg.text("model_id", required=True), wire.pairs(msg, "params")
    )
    return {}


def set_tags(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    ctx.store.set_logged_model_tags(msg.text("model_id", required=True), wire.pairs(msg, "tags"))
    return {}


def delete_tag(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    model_id = msg.text("model_id", required=True)
    ctx.store.delete_logged_model_tag(model_id, msg.text("tag_key", required=True))
    return {}


def search(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    experiment_ids = [str(e) for e in msg.array("experiment_ids")]
    if not experiment_ids:
        raise ValidationError("Missing value for required parameter 'experiment_ids'.")
    if msg.array("datasets"):
        raise ValidationError("Searching logged models by dataset is not supported yet.")
    from loom.server import auth

    auth.require_experiments(ctx, experiment_ids, READ)
    from loom.store.search.parser import MAX_ORDER_KEYS

    order = []
    for o in msg.objects("order_by"):
        order.append((o.text("field_name", required=True), o.flag("ascending", True)))
    if len(order) > MAX_ORDER_KEYS:
        raise ValidationError(f"order_by has {len(order)} entries; the limit is {MAX_ORDER_KEYS}.")
    page = ctx.store.search_logged_models(
        experiment_ids,
        msg.text("filter", default="") or "",
        order_by=order,
        max_results=msg.integer("max_results", default=100),
        page_token=msg.text("page_token") or None,
    )
    out: dict[str, Any] = {"models": _models(ctx, page.items)}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


def list_files(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    """ListLoggedModelArtifacts: the model's files directly in a folder."""
    from loom.server.mlflow.artifacts import checked_path, children

    lm = _get(ctx, msg.text("model_id", required=True))
    folder = msg.text("artifact_directory_path", default="") or ""
    if folder:
        checked_path(folder)
    files = ctx.store.list_logged_model_files(lm.model_id, folder or None)
    from loom import paths

    listed = [{**f, "path": paths.join(folder, f["path"])} for f in children(files, folder)]
    return {"root_uri": artifact_uri(lm), "files": listed}


def log_outputs(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    """LogOutputs: a model without a source run gets this one; a READY model is recorded
    as the run's ``model`` output (lineage). ``outputs.model_outputs`` of get_run lists
    the models a run is the source of."""
    from loom.server.mlflow.runs import run_id

    rid = run_id(msg)
    run = ctx.store.get_run(rid)
    for item in msg.objects("models"):
        lm = _get(ctx, item.text("model_id", required=True))
        if lm.experiment_id != run.experiment_id:
            raise ValidationError(f"Logged model {lm.model_id} is in another experiment.")
        if lm.run_id is None:
            lm = ctx.store.attach_logged_model_run(lm.model_id, rid)
        if lm.status == "READY" and lm.tree and lm.tree != EMPTY_TREE:
            ctx.store.log_outputs(rid, [RunOutput(lm.name, lm.tree, kind="model")])
    return {}


def endpoints() -> list[Endpoint]:
    read = Access("logged_model", READ, "model_id")
    edit = Access("logged_model", EDIT, "model_id")
    return [
        Endpoint("POST", "logged-models", create, Access("experiment", EDIT, "experiment_id")),
        Endpoint("POST", "logged-models/search", search, ANY_USER),
        Endpoint("GET", "logged-models/{model_id}", get, read),
        Endpoint("PATCH", "logged-models/{model_id}", finalize, edit),
        Endpoint(
            "DELETE", "logged-models/{model_id}", delete, Access("logged_model", MANAGE, "model_id")
        ),
        Endpoint("POST", "logged-models/{model_id}/params", log_params, edit),
        Endpoint("PATCH", "logged-models/{model_id}/tags", set_tags, edit),
        Endpoint("DELETE", "logged-models/{model_id}/tags/{tag_key}", delete_tag, edit),
        Endpoint("GET", "logged-models/{model_id}/artifacts/directories", list_files, read),
        Endpoint("POST", "runs/outputs", log_outputs, Access("run", EDIT, "run_id")),
    ]
