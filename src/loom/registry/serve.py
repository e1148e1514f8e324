"""``loom models serve``: one model behind HTTP, speaking MLflow's scoring protocol.

    POST /invocations   {"inputs": …} | {"instances": …} | {"dataframe_split": {…}}
                        | {"dataframe_records": […]}  ->  {"predictions": …}
    GET  /health, /ping ->  {"status": "ok"}
    GET  /metadata      ->  name, version, alias, flavor, signature, lineage

An MLflow scoring client works unchanged. Input is checked against the
model's signature before the model sees it; what doesn't match is a 400 whose
message says exactly what (``{"error_code", "message", "hint"}``, as Loom's
errors are everywhere). The app is a bare ASGI callable on uvicorn — no
framework between the socket and ``predict``: a small model answers in well
under a millisecond of Loom's own time.

    >>> serve("models:/churn@production", port=5001)       # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from loom.errors import LoomError, ValidationError
from loom.registry.pyfunc import LoadedModel

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

FORMATS = ("inputs", "instances", "dataframe_split", "dataframe_records")
MAX_BODY = 64 * 1024 * 1024  # a request bigger than this is refused (413), never read whole
_JSON = [(b"content-type", b"application/json")]
_HINT = (
    'Send JSON with one of "inputs", "instances", "dataframe_split" or '
    '"dataframe_records", e.g. {"inputs": [[1.0, 2.0]]}.'
)


class ScoringApp:
    """The ASGI app serving one loaded model."""

    def __init__(self, model: LoadedModel, metadata: dict[str, Any]) -> None:
        from loom.registry.signature import Tensor

        self.model = model
        self._metadata = _dumps(metadata)
        # a model logged with an array takes tables as rows; one logged with a frame, as columns
        signature = model.signature
        self._rows = signature is not None and isinstance(signature.inputs, Tensor)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/invocations":
            if method != "POST":
                await _error(send, 405, "METHOD_NOT_ALLOWED", "Use POST /invocations.")
                return
            await self._invocations(scope, receive, send)
        elif path in ("/health", "/ping") and method in ("GET", "HEAD"):
            await _respond(send, 200, b'{"status":"ok"}')
        elif path == "/metadata" and method in ("GET", "HEAD"):
            await _respond(send, 200, self._metadata)
        else:
            await _error(
                send,
                404,
                "ENDPOINT_NOT_FOUND",
                f"No endpoint {method} {path}.",
                "POST /invocations, GET /health, GET /metadata.",
            )

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = _content_type(scope)
        if kind not in ("", "application/json"):
            await _error(send, 415, "BAD_REQUEST", f"Content type {kind!r} is not JSON.", _HINT)
            return
        body = await _body(receive)
        if body is None:
            await _error(send, 413, "BAD_REQUEST", f"The body is over {MAX_BODY} bytes.")
            return
        try:
            predictions = self.model.predict(parse_request(body, rows=self._rows))
        except LoomError as exc:  # the input doesn't fit the signature, or isn't JSON
            await _error(send, 400, "BAD_REQUEST", exc.message, exc.hint)
            return
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            # the model refused this input (after the signature let it through)
            message = f"The model could not score this input: {type(exc).__name__}: {exc}"
            await _error(send, 400, "BAD_REQUEST", message, "Check the input against /metadata.")
            return
        await _respond(send, 200, b'{"predictions":' + _dumps(jsonable(predictions)) + b"}")


def parse_request(body: bytes, *, rows: bool = False) -> Any:
    """The model input in an MLflow scoring request body (ValidationError if malformed).

    A table (``dataframe_split`` / ``dataframe_records``) becomes a dict of columns,
    or with ``rows`` (a model that takes an array) a list of rows.
    """
    try:
        doc = json.loads(body)
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise ValidationError(f"The request body is not valid JSON: {exc}.", hint=_HINT) from None
    keys = [k for k in FORMATS if k in doc] if isinstance(doc, dict) else []
    if len(keys) != 1:
        found = ", ".join(sorted(doc)) if isinstance(doc, dict) else type(doc).__name__
        raise ValidationError(
            f"The request must hold exactly one of {', '.join(FORMATS)}; it holds {found}.",
            hint=_HINT,
        )
    value = doc[keys[0]]
    if keys[0] == "dataframe_split":
        columns = _split(value)
        return [list(row) for row in zip(*columns.values(), strict=True)] if rows else columns
    if keys[0] == "dataframe_records":
        if not (isinstance(value, list) and all(isinstance(r, dict) for r in value)):
            raise ValidationError(
                '"dataframe_records" must be a list of {column: value} objects.', hint=_HINT
            )
        return [list(r.values()) for r in value] if rows else value
    return value


def _split(value: Any) -> dict[str, list[Any]]:
    """``{"columns": [...], "data": [[...], ...]}`` as a dict of columns."""
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise ValidationError('"dataframe_split" needs "columns" and "data" lists.', hint=_HINT)
    columns, rows = value.get("columns"), value["data"]
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise ValidationError('"dataframe_split" needs "columns": a list of names.', hint=_HINT)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            raise ValidationError(
                f'Row {i} of "dataframe_split" has {_width(row)} values for '
                f"{len(columns)} columns.",
                hint=_HINT,
            )
    return {name: [row[i] for row in rows] for i, name in enumerate(columns)}


def _width(row: Any) -> str:
    return str(len(row)) if isinstance(row, list) else "no list of"


def jsonable(value: Any) -> Any:
    """Predictions as JSON values: arrays and frames as lists, NaN and ±inf as strings."""
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a pandas DataFrame
        return jsonable(value.to_dict(orient="records"))
    if hasattr(value, "tolist"):  # NumPy arrays and scalars, pandas Series
        return jsonable(value.tolist())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def _content_type(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


async def _body(receive: Receive) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts)


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _JSON})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, code: str, message: str, hint: str | None = None) -> None:
    await _respond(send, status, _dumps({"error_code": code, "message": message, "hint": hint}))


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def describe(model: LoadedModel, run: Any | None) -> dict[str, Any]:
    """What GET /metadata answers: where the model came from and what it takes."""
    meta = model.metadata.to_dict()
    signature = model.signature
    lineage: dict[str, Any] | None = None
    if run is not None:
        lineage = {
            "run_id": run.run_id,
            "run_name": run.name,
            "git_commit": run.tags.get("loom.git.commit"),
            "params": run.params,
            "metrics": run.metrics,
            "inputs": [
                {"path": i.path, "hash": i.hash, "kind": i.kind, "git_rev": i.git_rev}
                for i in run.inputs
            ],
        }
    return jsonable(
        {**meta, "signature": signature.to_dict() if signature else None, "lineage": lineage}
    )


def bind(host: str, port: int) -> Any:
    """A listening socket on ``host:port``; a clear error when that is impossible."""
    import socket

    from loom.errors import UsageError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # inherited by every accepted connection: uvicorn writes a response's headers and
        # body separately, and with Nagle's algorithm the body waits for the client's
        # delayed ACK of the headers — 40 ms a request (MLflow's server has that stall)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
            hint="Choose another port with --port (or stop what uses it), or another --host.",
            host=host,
            port=port,
        ) from None
    return sock


def serve(app: ScoringApp, sock: Any) -> None:
    """Answer requests on ``sock`` until interrupted (Ctrl-C or SIGTERM)."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
