"""Loom's own API under ``/api/v1``: a FastAPI app, OpenAPI at /api/v1/openapi.json, /docs.

``app.py`` hands it every request the MLflow routes don't own, with the signed-in
user in ``scope["state"]["loom_user"]``. Its calls are the tracking Backend's
methods (:mod:`loom.api.routes`), so ``loom.Client("http://…")`` behaves as it
does on a local store; artifact bytes are objects named by their hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loom.server.services import Services


def create_native_app(services: Services) -> Any:
    from fastapi import FastAPI

    from loom.server.native import calls, errors, objects

    app = FastAPI(
        title="Loom",
        summary="Experiment tracking, model registry and lineage: Loom's own REST API.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    errors.install(app)
    calls.add_routes(app, services)
    objects.add_routes(app, services)
    return app
