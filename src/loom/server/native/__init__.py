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
    return _json_limit(app)


def _json_limit(app: Any) -> Any:
    """JSON bodies up to MAX_JSON_BODY (413 beyond, as on the MLflow routes): starlette
    reads a body whole. Only object uploads (PUT) stream, and may be any size."""
    from starlette.exceptions import HTTPException

    from loom.server.http import MAX_JSON_BODY, BodyTooLarge

    too_large = BodyTooLarge(
        f"The request body is over {MAX_JSON_BODY // 2**20} MiB.",
        hint="Send fewer items per call (the client batches for you).",
    )

    async def limited(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] == "PUT":
            return await app(scope, receive, send)
        length = dict(scope.get("headers", ())).get(b"content-length", b"0")
        if length.isdigit() and int(length) > MAX_JSON_BODY:
            return await _answer(send, too_large)
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_JSON_BODY:  # FastAPI reads the body: only its HTTPException passes
                raise HTTPException(413, too_large.message)
            return message

        return await app(scope, counted, send)

    limited.app = app  # type: ignore[attr-defined]  # the FastAPI app, for introspection
    return limited


async def _answer(send: Any, exc: Any) -> None:
    from loom.server.http import dumps

    body = dumps(exc.to_dict())
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": exc.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
