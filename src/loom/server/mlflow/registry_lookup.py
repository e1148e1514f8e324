"""The registered model or version a request names, as MLflow answers for it.

Loom deletes softly; MLflow for good. So a deleted model or version is a 404
here, as it would be in MLflow. The store's "not found" hints list the models
that exist, which is for the owner of a local store, not for any caller of a
team server: here the hint names none.
"""

from __future__ import annotations

import shlex

from loom.entities import Lifecycle, ModelVersion, RegisteredModel
from loom.errors import NotFoundError
from loom.server.routing import Ctx


def active_model(ctx: Ctx, name: str) -> RegisteredModel:
    """The model, or 404 if there is none or it is deleted."""
    try:
        model = ctx.store.get_registered_model(name)
    except NotFoundError:
        raise NotFoundError(
            f"Registered model {name!r} not found.",
            hint="MlflowClient().search_registered_models() lists the models you may read.",
            name=name,
        ) from None
    if model.lifecycle_stage != Lifecycle.ACTIVE:
        # its name stays taken (create says so too): say why this one can't be used
        raise NotFoundError(
            f"Registered model {name!r} is deleted.",
            hint="Pick another name, or ask an admin to restore it: "
            f"loom models restore {shlex.quote(name)}",
            name=name,
        )
    return model


def active_version(ctx: Ctx, name: str, version: str) -> ModelVersion:
    """The version, or 404 if it, or its model, is missing or deleted."""
    active_model(ctx, name)
    mv = ctx.store.get_model_version(name, version)
    if mv.lifecycle_stage != Lifecycle.ACTIVE:
        raise NotFoundError(
            f"Model version {mv.version} of {name!r} not found: it is deleted.",
            name=name,
            version=mv.version,
        )
    return mv
