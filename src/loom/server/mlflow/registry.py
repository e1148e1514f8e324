"""MLflow's registered-model calls: create, get, rename, update, delete, search, tags,
aliases and get-latest-versions.

Loom keeps every alias move as an event (who, when, from which version), so an
alias set or deleted over this API shows up in ``loom models history``. A
deleted model stays in the store (soft delete) but answers 404 here, as in MLflow;
its name stays taken until an admin restores or renames it.
"""

from __future__ import annotations

from typing import Any

from loom.entities import Lifecycle, RegisteredModel
from loom.errors import NotFoundError, ValidationError
from loom.server.mlflow import registry_search, wire
from loom.server.mlflow.model_versions import STAGE, version_json
from loom.server.mlflow.registry_lookup import active_model
from loom.server.routing import ANY_USER, EDIT, MANAGE, READ, Access, Ctx, Endpoint, Msg

MAX_SEARCH = 1000  # MLflow's SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD
STAGES = ("None", "Staging", "Production", "Archived")


def models_json(ctx: Ctx, models: list[RegisteredModel]) -> list[dict[str, Any]]:
    """RegisteredModel messages, each with its newest version (MLflow's latest version
    of stage None: Loom has no other stage) and aliases."""
    keys = [(m.name, m.latest_version) for m in models if m.latest_version is not None]
    latest = {mv.name: mv for mv in ctx.store.find_model_versions(keys=keys)} if keys else {}
    out = []
    for m in models:
        doc: dict[str, Any] = {
            "name": m.name,
            "creation_timestamp": m.creation_time,
            "last_updated_timestamp": m.last_update_time,
            "latest_versions": [version_json(latest[m.name])] if m.name in latest else [],
            "tags": wire.key_values(m.tags),
            "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(m.aliases.items())],
        }
        if m.description is not None:
            doc["description"] = m.description
        out.append(doc)
    return out


def _one(ctx: Ctx, model: RegisteredModel) -> dict[str, Any]:
    return {"registered_model": models_json(ctx, [model])[0]}


def create(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name = msg.text("name", required=True)
    model = ctx.store.create_registered_model(
        name, msg.text("description") or None, wire.pairs(msg, "tags", value_required=False)
    )
    if ctx.user is not None:
        from loom.server import auth

        auth.on_created(ctx, "model", model.name)
    return _one(ctx, model)


def get(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    return _one(ctx, active_model(ctx, msg.text("name", required=True)))


def rename(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name, new_name = msg.text("name", required=True), msg.text("new_name", required=True)
    active_model(ctx, name)
    return _one(ctx, ctx.store.rename_registered_model(name, new_name))


def update(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name = msg.text("name", required=True)
    active_model(ctx, name)
    return _one(ctx, ctx.store.update_registered_model(name, msg.text("description")))


def delete(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name = msg.text("name", required=True)
    active_model(ctx, name)
    ctx.store.delete_registered_model(name)
    return {}


def search(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    size = registry_search.max_results(msg.integer("max_results"), 100, MAX_SEARCH)
    node = registry_search.parse_filter(msg.text("filter", default=""), registry_search.MODELS)
    from loom.server import auth

    models = _candidates(ctx, registry_search.equal_values(node, "name"))
    readable = auth.readable_models(ctx, [m.name for m in models])

    def field(m: RegisteredModel) -> Any:
        return lambda c: _attribute(m, c.key) if c.kind == "attribute" else m.tags.get(c.key)

    hits = [m for m in models if m.name in readable and registry_search.matches(node, field(m))]
    order_by = [str(o) for o in msg.array("order_by")] or ["name ASC"]
    hits = registry_search.order(
        hits, order_by, registry_search.MODELS, registry_search.MODEL_ORDER, _attribute
    )
    items, token = registry_search.page(hits, size, msg.text("page_token"))
    out: dict[str, Any] = {"registered_models": models_json(ctx, items)}
    if token:
        out["next_page_token"] = token
    return out


def _candidates(ctx: Ctx, names: list[str] | None) -> list[RegisteredModel]:
    """The active models a search may return: those it names, else all of them."""
    if names is None or len(names) > 100:  # one query beats a hundred
        return ctx.store.list_registered_models()
    found = []
    for name in dict.fromkeys(names):
        try:
            model = ctx.store.get_registered_model(name)
        except (NotFoundError, ValidationError):  # a name no model can have matches none
            continue
        if model.lifecycle_stage == Lifecycle.ACTIVE:
            found.append(model)
    return found


def _attribute(m: RegisteredModel, key: str) -> Any:
    return {
        "name": m.name,
        "creation_timestamp": m.creation_time,
        "last_updated_timestamp": m.last_update_time,
    }[key]


def set_tag(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name, key = msg.text("name", required=True), msg.text("key", required=True)
    active_model(ctx, name)
    ctx.store.set_registered_model_tag(name, key, msg.text("value", default=""))
    return {}


def delete_tag(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name, key = msg.text("name", required=True), msg.text("key", required=True)
    active_model(ctx, name)
    ctx.store.delete_registered_model_tag(name, key)
    return {}


def set_alias(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    """Point the alias at the version; Loom records the move (from, to, user, time)."""
    name = msg.text("name", required=True)
    alias, version = msg.text("alias", required=True), msg.text("version", required=True)
    active_model(ctx, name)
    ctx.store.set_registered_model_alias(name, alias, version, user=ctx.user)
    return {}


def delete_alias(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    """Deleting an alias the model doesn't have is fine, as in MLflow."""
    name, alias = msg.text("name", required=True), msg.text("alias", required=True)
    if alias in active_model(ctx, name).aliases:
        ctx.store.delete_registered_model_alias(name, alias, user=ctx.user)
    return {}


def get_by_alias(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    name, alias = msg.text("name", required=True), msg.text("alias", required=True)
    active_model(ctx, name)
    return {"model_version": version_json(ctx.store.get_model_version_by_alias(name, alias))}


def latest_versions(ctx: Ctx, msg: Msg) -> dict[str, Any]:
    """The newest version per stage asked for; every Loom version is in stage None."""
    model = active_model(ctx, msg.text("name", required=True))
    stages = [str(s) for s in msg.array("stages")]
    for s in stages:
        if s.lower() not in (x.lower() for x in STAGES):
            raise ValidationError(
                f"Invalid Model Version stage: {s}. Value must be one of {', '.join(STAGES)}.",
                hint="Loom keeps aliases instead of stages: use models:/NAME@ALIAS.",
            )
    wanted = not stages or any(s.lower() == STAGE.lower() for s in stages)
    if not wanted or model.latest_version is None:
        return {"model_versions": []}
    mv = ctx.store.get_model_version(model.name, model.latest_version)
    return {"model_versions": [version_json(mv)]}


def endpoints() -> list[Endpoint]:
    from loom.server.mlflow import model_versions

    read = Access("model", READ, "name")
    edit = Access("model", EDIT, "name")
    manage = Access("model", MANAGE, "name")
    return [
        Endpoint("POST", "registered-models/create", create, ANY_USER),
        Endpoint("GET", "registered-models/get", get, read),
        # a rename moves the model's grants with it: as much power as deleting it
        Endpoint("POST", "registered-models/rename", rename, manage),
        Endpoint("PATCH", "registered-models/update", update, edit),
        Endpoint("DELETE", "registered-models/delete", delete, manage),
        Endpoint("GET", "registered-models/search", search, ANY_USER),
        Endpoint("POST", "registered-models/set-tag", set_tag, edit),
        Endpoint("DELETE", "registered-models/delete-tag", delete_tag, edit),
        Endpoint("POST", "registered-models/alias", set_alias, edit),
        Endpoint("DELETE", "registered-models/alias", delete_alias, edit),
        Endpoint("GET", "registered-models/alias", get_by_alias, read),
        Endpoint("POST", "registered-models/get-latest-versions", latest_versions, read),
        Endpoint("GET", "registered-models/get-latest-versions", latest_versions, read),
        *model_versions.endpoints(),
    ]
