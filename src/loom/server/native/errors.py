"""One error body for the native API: ``{"error_code", "message", "hint"}``, never a 422.

A LoomError keeps its own 4xx; FastAPI's validation errors become 400
INVALID_PARAMETER_VALUE naming the fields; an unknown path is ENDPOINT_NOT_FOUND;
anything unexpected is logged and answered without details.
"""

from __future__ import annotations

import logging
from typing import Any

from loom.errors import LoomError

log = logging.getLogger("loom.server")


def status_of(exc: LoomError) -> int:
    if exc.http_status < 500 or exc.code == "LOOM_ERROR":
        return exc.http_status
    # the database or the bucket is down: a retry may succeed
    return 503 if exc.code in ("STORE_ERROR", "REMOTE_ERROR") else 400


def body(code: str, message: str, hint: str | None = None) -> dict[str, Any]:
    return {"error_code": code, "message": message, "hint": hint}


def install(app: Any) -> None:
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    async def loom_error(request: Any, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LoomError)
        return JSONResponse(exc.to_dict(), status_code=status_of(exc))

    async def invalid(request: Any, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(_problem(e) for e in exc.errors())
        return JSONResponse(
            body(
                "INVALID_PARAMETER_VALUE",
                f"Invalid request: {problems}.",
                f"See {request.app.openapi_url} for this call's fields.",
            ),
            status_code=400,
        )

    async def http_error(request: Any, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        status = exc.status_code
        code = _HTTP_CODES.get(status, "BAD_REQUEST")
        message = f"No endpoint {request.method} {request.url.path}."
        if status != 404:
            message = f"{request.method} {request.url.path}: {exc.detail}"
        hint = "Send fewer items per call." if status == 413 else "See /docs for Loom's API."
        return JSONResponse(body(code, message, hint), status_code=status)

    async def unexpected(request: Any, exc: Exception) -> JSONResponse:
        log.error("Unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            body(
                "LOOM_ERROR",
                "The server failed on this request; its log has the details.",
                "Report it with the server log's traceback.",
            ),
            status_code=500,
        )

    app.add_exception_handler(LoomError, loom_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


_HTTP_CODES = {404: "ENDPOINT_NOT_FOUND", 405: "ENDPOINT_NOT_FOUND", 413: "REQUEST_LIMIT_EXCEEDED"}


def _problem(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
    return f"{where or 'body'}: {error.get('msg', 'invalid')}"
