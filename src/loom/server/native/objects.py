"""Artifact bytes by content hash: ``PUT``/``GET /api/v1/objects/{oid}`` and which are missing.

An upload is hashed as it streams into the blobs' staging file and kept only if
its hash is the ``oid`` it was sent to (400 otherwise), so an object's name always
matches its bytes. The http backend asks which objects are missing and uploads
only those.
"""

from __future__ import annotations

from typing import Any

import blake3
from fastapi import Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from loom.api.routes import OBJECT, OBJECTS_MISSING, PREFIX, Route
from loom.errors import ValidationError
from loom.objects.hashing import is_oid
from loom.server.blobs import Upload
from loom.server.native import access
from loom.server.services import Services

_WRITE = Route("PUT", OBJECT, "any", "EDIT")
_READ = Route("GET", OBJECT)


class Oids(BaseModel):
    oids: list[str]


class Missing(BaseModel):
    missing: list[str]


class Stored(BaseModel):
    oid: str
    size: int


def _check(oid: str) -> str:
    if not is_oid(oid):
        raise ValidationError(
            f"{oid[:80]!r} is not an object id.", hint="Send 64 lowercase hex digits (BLAKE3)."
        )
    return oid


def add_routes(app: Any, services: Services) -> None:
    @app.post(PREFIX + OBJECTS_MISSING, tags=["objects"], response_model=Missing)
    def missing(request: Request, body: Oids) -> Missing:
        """Which of these objects the server lacks."""
        access.authorize(access.context(services, request), _READ, {})
        oids = [_check(o) for o in body.oids]
        return Missing(missing=[o for o in oids if not services.blobs.exists(o)])

    @app.put(PREFIX + OBJECT, tags=["objects"], response_model=Stored)
    async def put(oid: str, request: Request) -> Stored:
        """Store the body as object ``oid``; refused unless its BLAKE3 hash is ``oid``."""
        ctx = access.context(services, request)
        await run_in_threadpool(access.authorize, ctx, _WRITE, {"oid": oid})
        _check(oid)
        upload = await run_in_threadpool(Upload, services.blobs)
        hasher = blake3.blake3()
        try:
            async for chunk in request.stream():
                hasher.update(chunk)
                upload.write(chunk)
        except BaseException:
            upload.abort()
            raise
        if hasher.hexdigest() != oid:
            upload.abort()
            raise ValidationError(
                f"The body's hash is {hasher.hexdigest()}, not {oid}.",
                hint="The bytes changed on the way or the id is wrong; upload again.",
            )
        _, size = await run_in_threadpool(upload.finish)
        return Stored(oid=oid, size=size)

    @app.get(PREFIX + OBJECT, tags=["objects"], response_class=StreamingResponse)
    def get(oid: str, request: Request) -> StreamingResponse:
        """The object's bytes (404 MISSING_OBJECT if the server has none)."""
        access.authorize(access.context(services, request), _READ, {"oid": oid})
        chunks = services.blobs.read_chunks(_check(oid))
        return StreamingResponse(chunks, media_type="application/octet-stream")
