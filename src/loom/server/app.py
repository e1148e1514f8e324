"""The server's ASGI app: guard, auth, then the route table; one error mapping.

    >>> settings = ServerSettings(backend_store_uri="sqlite:////tmp/s/loom.db")
    >>> app = create_app(settings)  # doctest: +SKIP

Every request passes the same steps: the guard (Host header, cross-site writes,
body size), authentication, the route's :class:`~loom.server.routing.Access`
check, then the handler on a worker thread. Any :class:`~loom.errors.LoomError`
becomes MLflow's error body with its 4xx; an unexpected exception is logged
with its traceback and answered ``INTERNAL_ERROR`` without details.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from loom.errors import LoomError, NotFoundError
from loom.server import auth, guard
from loom.server.http import (
    Receive,
    Request,
    Response,
    Scope,
    Send,
    error_response,
    json_response,
    loads,
)
from loom.server.routing import Ctx, Endpoint, Msg, Router
from loom.server.services import Services
from loom.server.settings import ServerSettings

log = logging.getLogger("loom.server")
access_log = logging.getLogger("loom.server.access")

MLFLOW_PREFIXES = ("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/")
ARTIFACT_PREFIXES = ("/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/")
MLFLOW_V3_PREFIXES = ("/api/3.0/mlflow/", "/ajax-api/3.0/mlflow/")


class MethodNotAllowed(LoomError):
    code = "ENDPOINT_NOT_FOUND"
    http_status = 405


class EndpointNotFound(NotFoundError):
    code = "ENDPOINT_NOT_FOUND"


class LoomServer:
    """The ASGI callable; one per process."""

    def __init__(self, settings: ServerSettings, services: Services | None = None) -> None:
        from loom.server import mlflow
        from loom.server.auth import api as auth_api

        self.settings = settings
        self.services = services or Services(settings)
        self.routers = [
            Router(MLFLOW_PREFIXES, [*mlflow.endpoints(), *auth_api.endpoints()]),
            Router(ARTIFACT_PREFIXES, mlflow.artifact_endpoints()),
            Router(MLFLOW_V3_PREFIXES, auth_api.v3_endpoints()),
        ]
        self.pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="loom-server")
        self.guard = guard.Guard(settings)
        self._native: Any = None
        # A point read or write on a SQLite store takes ~0.15 ms, about what the hop to a
        # worker thread and back costs; with one process and no auth (whose password check
        # is slow by design) nothing can make it wait, so it runs on the event loop.
        # PostgreSQL (network round trips) and several workers (SQLite's write lock) keep
        # every handler on the threads.
        self.inline = (
            settings.backend_store_uri.startswith("sqlite")
            and settings.workers == 1
            and not settings.auth_required
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request = Request(scope, receive)
        status = 500
        try:
            response = await self._handle(request)
            status = response.status
            if response is _NATIVE:
                status = await self._native_app(scope, receive, send, request)
                return
            await response.send(send)
        finally:
            if self.settings.access_log:
                _log_access(request, status, started)

    async def _handle(self, request: Request) -> Response:
        try:
            self.guard.check(request)
            if request.path == "/health":
                return json_response({"status": "ok"})
            for router in self.routers:
                found = router.match(request.method, request.path)
                if found is False:
                    continue
                if found is None or found is True:
                    raise _no_route(request, router)
                endpoint, captured = found
                await self._authenticate(request)
                return await self._dispatch(endpoint, captured, request)
            await self._authenticate(request)
            return _NATIVE
        except LoomError as exc:
            response = error_response(exc, mlflow_status(exc))
            if response.status == 401:
                response.headers.append(auth.CHALLENGE)
            return response
        except Exception:
            log.exception("Unexpected error in %s %s", request.method, request.path)
            return error_response(
                LoomError(
                    "The server failed on this request; its log has the details.",
                    hint="Report it with the server log's traceback.",
                )
            )

    def _call(self, e: Endpoint, captured: dict[str, str], ctx: Ctx, body: bytes) -> Response:
        """Parse, authorize and handle (on a worker thread, or inline: see ``inline``)."""
        request = ctx.request
        if request.method in ("GET", "HEAD"):
            msg = Msg.from_query(request.query())
        else:
            msg = Msg(loads(body))
        if captured:
            msg = Msg({**msg.doc, **captured}, msg.multi)
        return _respond(_authorized(e, ctx, msg))

    async def _dispatch(self, e: Endpoint, captured: dict[str, str], request: Request) -> Response:
        ctx = Ctx(self.services, request, request.user)
        if e.raw:  # an upload: the handler streams the body itself
            msg = Msg(dict(captured))
            await self._run(auth.authorize, ctx, e.access, msg)
            return await e.handler(ctx, msg)  # type: ignore[misc]
        body = b"" if request.method in ("GET", "HEAD") else await request.body()
        if e.small and self.inline:
            return self._call(e, captured, ctx, body)
        # one trip to a worker thread for parsing, authorization and the handler: each
        # trip costs about as much as a small store write
        return await self._run(self._call, e, captured, ctx, body)

    async def _authenticate(self, request: Request) -> None:
        """Who is calling (before any body is read); no trip to the pool when auth is off."""
        if self.settings.auth:
            request.user = await self._run(auth.authenticate, self.services, request)

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def _native_app(self, scope: Scope, receive: Receive, send: Send, req: Request) -> int:
        """Loom's own API and its docs, a FastAPI app built on first use."""
        if self._native is None:
            from loom.server.native import create_native_app

            self._native = create_native_app(self.services)
        status = [500]

        async def tracking_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        scope = {**scope, "state": {**scope.get("state", {}), "loom_user": req.user}}
        await self._native(scope, receive, tracking_send)
        return status[0]

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.pool.shutdown(wait=True)  # in-flight handlers finish
                self.services.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


_NATIVE = Response(0)  # a marker: the request goes to the native app


def _respond(result: Any) -> Response:
    return result if isinstance(result, Response) else json_response(result)


def _authorized(e: Endpoint, ctx: Ctx, msg: Msg) -> Any:
    auth.authorize(ctx, e.access, msg)
    return e.handler(ctx, msg)


def _no_route(request: Request, router: Router) -> LoomError:
    methods = router.methods_for(request.path)
    if methods:
        return MethodNotAllowed(
            f"{request.method} is not allowed on {request.path}.",
            hint=f"Use {' or '.join(sorted(set(methods)))}.",
        )
    return EndpointNotFound(
        f"No endpoint {request.method} {request.path}.",
        hint="See MLflow's REST API reference for the calls the server answers.",
    )


# MLflow's statuses by error code (mlflow/protos/databricks.proto, its handlers); Loom
# answers INVALID_STATE with 409, never with MLflow's 500: it is the caller's mistake.
_MLFLOW_STATUS = {
    "RESOURCE_ALREADY_EXISTS": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "PERMISSION_DENIED": 403,
    "UNAUTHENTICATED": 401,
    "REQUEST_LIMIT_EXCEEDED": 429,
}


def mlflow_status(exc: LoomError) -> int:
    if exc.http_status in (405, 413):
        return exc.http_status
    status = _MLFLOW_STATUS.get(exc.code, exc.http_status)
    if status < 500 or exc.code == "LOOM_ERROR":  # LOOM_ERROR: the unexpected-failure answer
        return status
    # the database or the bucket is down: the client's retry may succeed
    return 503 if exc.code in ("STORE_ERROR", "REMOTE_ERROR") else 400


def _log_access(request: Request, status: int, started: float) -> None:
    import json

    access_log.info(
        json.dumps(
            {
                "time": round(time.time(), 3),
                "method": request.method,
                "path": request.path,
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
                "user": request.user,
                "client": request.client,
                "pid": os.getpid(),  # which process answered, with --workers N
            },
            separators=(",", ":"),
        )
    )


def create_app(settings: ServerSettings) -> LoomServer:
    return LoomServer(settings)


def app_from_env() -> LoomServer:
    """The factory ``--workers N`` hands uvicorn: settings come in LOOM_SERVER_SETTINGS."""
    from loom.server.run import configure_logging

    configure_logging()  # a worker is a fresh process: without this its access log is lost
    return LoomServer(ServerSettings.from_env())
