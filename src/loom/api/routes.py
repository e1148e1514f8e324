"""The ``/api/v1`` calls: one per method of the tracking Backend, in MLflow's style.

A call is ``GET`` when all its arguments are scalars (sent in the query string),
else ``POST`` with a JSON object of the method's keyword arguments. Names travel in
the query or the body, never in the path, so a name with a ``/`` reaches the
store's own validation. ``access`` is what the caller needs: (kind, level, the
argument naming the resource), as ``loom.server.routing.Access`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "/api/v1"


@dataclass(frozen=True)
class Route:
    verb: str
    path: str
    kind: str = "any"  # experiment | run | model | logged_model | any | admin
    level: str = "READ"
    key: str | None = None


def _exp(verb: str, path: str, level: str = "READ") -> Route:
    return Route(verb, path, "experiment", level, "experiment_id")


def _run(verb: str, path: str, level: str = "READ") -> Route:
    return Route(verb, path, "run", level, "run_id")


def _model(verb: str, path: str, level: str = "READ") -> Route:
    return Route(verb, path, "model", level, "name")


ROUTES: dict[str, Route] = {
    # experiments
    "create_experiment": Route("POST", "/experiments/create"),
    "get_or_create_experiment": Route("POST", "/experiments/get-or-create"),
    "get_experiment": _exp("GET", "/experiments/get"),
    "get_experiment_by_name": Route("GET", "/experiments/get-by-name"),
    "list_experiments": Route("GET", "/experiments/list"),
    "rename_experiment": _exp("POST", "/experiments/rename", "EDIT"),
    "delete_experiment": _exp("POST", "/experiments/delete", "MANAGE"),
    "restore_experiment": _exp("POST", "/experiments/restore", "MANAGE"),
    "set_experiment_tag": _exp("POST", "/experiments/set-tag", "EDIT"),
    # runs
    "create_run": _exp("POST", "/runs/create", "EDIT"),
    "get_run": _run("GET", "/runs/get"),
    "update_run": _run("POST", "/runs/update", "EDIT"),
    "end_run": _run("POST", "/runs/end", "EDIT"),
    "delete_run": _run("POST", "/runs/delete", "MANAGE"),
    "restore_run": _run("POST", "/runs/restore", "MANAGE"),
    "list_runs_by_status": Route("GET", "/runs/by-status"),
    "last_activity": Route("POST", "/runs/last-activity"),
    "run_id_prefixes": Route("POST", "/runs/id-prefixes"),
    "search_runs": Route("POST", "/runs/search"),
    "get_runs": Route("POST", "/runs/get-many"),
    # logging
    "log_batch": _run("POST", "/runs/log-batch", "EDIT"),
    "get_metric_history": _run("GET", "/metrics/history"),
    "log_inputs": _run("POST", "/runs/log-inputs", "EDIT"),
    "log_outputs": _run("POST", "/runs/log-outputs", "EDIT"),
    "list_outputs": _run("GET", "/runs/outputs"),
    # artifacts (rows; the bytes are /objects)
    "log_artifacts": _run("POST", "/runs/log-artifacts", "EDIT"),
    "list_artifacts": _run("GET", "/runs/artifacts"),
    "artifact_hashes": Route("GET", "/artifacts/hashes", "admin", "MANAGE"),
    # lineage
    "links_by_hash": Route("POST", "/lineage/links-by-hash"),
    "links_by_run": Route("POST", "/lineage/links-by-run"),
    "consumed_artifacts": Route("POST", "/lineage/consumed-artifacts"),
    "model_versions_by_run": Route("POST", "/lineage/model-versions-by-run"),
    "alias_event_at": _model("GET", "/registered-models/aliases/event-at"),
    # registered models
    "create_registered_model": Route("POST", "/registered-models/create"),
    "get_registered_model": _model("GET", "/registered-models/get"),
    "list_registered_models": Route("GET", "/registered-models/list"),
    "update_registered_model": _model("POST", "/registered-models/update", "EDIT"),
    "delete_registered_model": _model("POST", "/registered-models/delete", "MANAGE"),
    "restore_registered_model": _model("POST", "/registered-models/restore", "MANAGE"),
    "set_registered_model_tag": _model("POST", "/registered-models/set-tag", "EDIT"),
    "delete_registered_model_tag": _model("POST", "/registered-models/delete-tag", "EDIT"),
    # model versions
    "create_model_version": _model("POST", "/model-versions/create", "EDIT"),
    "get_model_version": _model("GET", "/model-versions/get"),
    "get_latest_version": _model("GET", "/model-versions/latest"),
    "list_model_versions": _model("GET", "/model-versions/list"),
    "update_model_version": _model("POST", "/model-versions/update", "EDIT"),
    "set_model_version_tag": _model("POST", "/model-versions/set-tag", "EDIT"),
    "delete_model_version_tag": _model("POST", "/model-versions/delete-tag", "EDIT"),
    "delete_model_version": _model("POST", "/model-versions/delete", "MANAGE"),
    "restore_model_version": _model("POST", "/model-versions/restore", "MANAGE"),
    # aliases and their history
    "set_registered_model_alias": _model("POST", "/registered-models/aliases/set", "EDIT"),
    "delete_registered_model_alias": _model("POST", "/registered-models/aliases/delete", "EDIT"),
    "rollback_registered_model_alias": _model(
        "POST", "/registered-models/aliases/rollback", "EDIT"
    ),
    "get_model_version_by_alias": _model("GET", "/registered-models/aliases/get"),
    "get_alias_history": _model("GET", "/registered-models/aliases/history"),
    "get_model_version_at": _model("GET", "/registered-models/aliases/version-at"),
    "get_aliases_at": _model("GET", "/registered-models/aliases/at"),
    # logged models
    "create_logged_model": _exp("POST", "/logged-models/create", "EDIT"),
    "get_logged_model": Route("GET", "/logged-models/get", "logged_model", "READ", "model_id"),
    "list_logged_models": _run("GET", "/logged-models/list"),
}

# the artifact bytes, by content hash
OBJECT = "/objects/{oid}"  # PUT (the body's hash must be oid), GET
OBJECTS_MISSING = "/objects/missing"  # POST {"oids": [...]} -> {"missing": [...]}
