"""MLflow's model-version calls: create, get, update, delete, search, download URI, tags.

A version's files are fixed when it is created: its ``source`` is resolved to a
tree of this server's own objects (see ``model_sources``). Loom has no stages;
every version is in MLflow's stage ``None``, and aliases do what stages did.
Soft-deleted versions and models answer 404, as MLflow's deleted ones do.
"""

from __future__ import annotations

from typing import Any

from loom.entities import ModelVersion
from loom.errors import ValidationError
from loom.server.mlflow import model_sources, registry_search, wire
from loom.server.mlflow.registry_lookup import active_model, active_version
from loom.server.routing import ANY_USER, EDIT, MANAGE, READ, Access, Ctx, Endpoint, Msg

STAGE = "None"  # MLflow's stage of a version in no stage: every Loom version
MAX_SEARCH = 200_000  # MLflow's SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD


def version_json(mv: ModelVersion) -> dict[str, Any]:
    """A ModelVersion message; ``version`` is a string, as in MLflow's proto."""
    out: dict[str, Any] = {
        "name": mv.name,
        "version": str(mv.version),
        "creation_timestamp": mv.creation_time,
        "last_updated_timestamp": mv.last_update_time,
        "current_stage": STAGE,
        "source": mv.source,
        "status": mv.status or "READY",
        "tags": wire.key_values(mv.tags),
        "aliases": list(mv.aliases),
    }
    optional = {
        "description": mv.description,
        "user_id": mv.user,
        "run_id": mv.run_id,
        "model_id": mv.model_id,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def _name_version(msg: Msg) -> tuple[str, str]:
    return msg.text("name", required=True), msg.text("version", required=True)


def create(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name, source = msg.text("name", required=True), msg.text("source", required=True)
    run_id, model_id = msg.text("run_id") or None, msg.text("model_id") or None
    description = msg.text("description") or None
    tags = wire.pairs(msg, "tags", value_required=False) or None
    active_model(ctx, name)  # MLflow needs the model first; Loom's store would make it
    files = model_sources.resolve(ctx, source, run_id, model_id)
    mv, _ = ctx.store.create_model_version(
        name,
        files.source,
        files.tree,
        run_id=files.run_id,
        model_id=files.model_id,
        flavor=files.flavor,
        description=description,
        tags=tags,
        user=ctx.user,
    )
    return {"model_version": version_json(mv)}


def get(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    return {"model_version": version_json(active_version(ctx, *_name_version(msg)))}


def update(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name, version = _name_version(msg)
    active_version(ctx, name, version)
    mv = ctx.store.update_model_version(name, version, msg.text("description"))
    return {"model_version": version_json(mv)}


def delete(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    """As in MLflow, the aliases on the version go with it (each move is kept as an
    event in Loom's alias history)."""
    name, version = _name_version(msg)
    active_version(ctx, name, version)
    ctx.store.delete_model_version(name, version, force=True, user=ctx.user)
    return {}


def search(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    size = registry_search.max_results(msg.integer("max_results"), 10_000, MAX_SEARCH)
    node = registry_search.parse_filter(msg.text("filter", default=""), registry_search.VERSIONS)
    found = ctx.store.find_model_versions(
        names=registry_search.equal_values(node, "name"),
        run_ids=registry_search.equal_values(node, "run_id"),
    )
    from loom.server import auth

    readable = auth.readable_models(ctx, sorted({mv.name for mv in found}))
    hits = [mv for mv in found if mv.name in readable and registry_search.matches(node, _field(mv))]
    order_by = [str(o) for o in msg.array("order_by")] or [
        "last_updated_timestamp DESC",
        "name ASC",
        "version_number DESC",
    ]
    hits = registry_search.order(
        hits, order_by, registry_search.VERSIONS, registry_search.VERSION_ORDER, _attribute
    )
    items, token = registry_search.page(hits, size, msg.text("page_token"))
    out: dict[str, Any] = {"model_versions": [version_json(mv) for mv in items]}
    if token:
        out["next_page_token"] = token
    return out


def _attribute(mv: ModelVersion, key: str) -> Any:
    return {
        "name": mv.name,
        "run_id": mv.run_id,
        "source_path": mv.source,
        "version_number": mv.version,
        "creation_timestamp": mv.creation_time,
        "last_updated_timestamp": mv.last_update_time,
    }[key]


def _field(mv: ModelVersion) -> Any:
    return lambda c: _attribute(mv, c.key) if c.kind == "attribute" else mv.tags.get(c.key)


def download_uri(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    mv = active_version(ctx, *_name_version(msg))
    return {"artifact_uri": model_sources.download_uri(ctx, mv)}


def set_tag(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name, version = _name_version(msg)
    active_version(ctx, name, version)
    key = msg.text("key", required=True)
    ctx.store.set_model_version_tag(name, version, key, msg.text("value", default=""))
    return {}


def delete_tag(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name, version = _name_version(msg)
    active_version(ctx, name, version)
    ctx.store.delete_model_version_tag(name, version, msg.text("key", required=True))
    return {}


def transition_stage(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    """MLflow deprecated stages for aliases; Loom has only aliases (with their history)."""
    name, version = _name_version(msg)
    stage = msg.text("stage", required=True)
    active_version(ctx, name, version)
    raise ValidationError(
        f"Model stages are not supported: this server keeps aliases instead of stage "
        f"{stage!r} (MLflow deprecated stages).",
        hint=f"Set an alias: MlflowClient().set_registered_model_alias({name!r}, "
        f"{stage.lower()!r}, {version!r}); load it as models:/{name}@{stage.lower()}.",
    )


def endpoints() -> list[Endpoint]:
    read = Access("model", READ, "name")
    edit = Access("model", EDIT, "name")
    return [
        Endpoint("POST", "model-versions/create", create, edit),
        Endpoint("GET", "model-versions/get", get, read),
        Endpoint("PATCH", "model-versions/update", update, edit),
        Endpoint("DELETE", "model-versions/delete", delete, Access("model", MANAGE, "name")),
        Endpoint("GET", "model-versions/search", search, ANY_USER),
        Endpoint("GET", "model-versions/get-download-uri", download_uri, read),
        Endpoint("POST", "model-versions/set-tag", set_tag, edit),
        Endpoint("DELETE", "model-versions/delete-tag", delete_tag, edit),
        Endpoint("POST", "model-versions/transition-stage", transition_stage, edit),
    ]
