"""The small HTTP layer under the server's routes: requests, responses and JSON.

The MLflow routes and the artifact proxy are bare ASGI, without a framework
between the socket and the store: ``mlflow.log_metric`` is one small request,
and its latency is the server's whole cost. JSON follows MLflow's proto3
mapping: NaN and infinities travel as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from loom.errors import LoomError, ValidationError

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_JSON_BODY = 16 * 1024 * 1024  # MLflow's request limit is far below; a 413 beyond it


class BodyTooLarge(LoomError):
    code = "REQUEST_LIMIT_EXCEEDED"
    http_status = 413


class Request:
    """One HTTP request: method, decoded path, query, lower-cased headers, body on demand."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        self.query_string: bytes = scope.get("query_string", b"")
        self.headers: dict[str, str] = {}
        for k, v in scope.get("headers", ()):
            key = k.decode("latin-1").lower()
            value = v.decode("latin-1")
            # a repeated header is joined, as RFC 9110 allows for list-valued fields
            self.headers[key] = f"{self.headers[key]}, {value}" if key in self.headers else value
        client = scope.get("client")
        self.client = f"{client[0]}:{client[1]}" if client else "-"
        self.user: str | None = None  # set by auth
        self._body: bytes | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True)

    async def body(self, limit: int = MAX_JSON_BODY) -> bytes:
        """The whole body, refused past ``limit`` bytes before it is all read."""
        if self._body is not None:
            return self._body
        declared = self.headers.get("content-length")
        if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        self._body = b"".join(chunks)
        return self._body

    async def stream(self) -> AsyncIterator[bytes]:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ValidationError("The client went away before sending the whole body.")
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"The request body is over the server's limit of {limit} bytes.",
        hint="Send less per request: log in batches, upload large files one at a time.",
    )


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunks: Iterable[bytes] | None = None  # streamed instead of body (downloads)
    length: int | None = None

    async def send(self, send: Send) -> None:
        headers = [(b"content-type", self.content_type.encode())]
        headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        headers.append((b"x-content-type-options", b"nosniff"))
        if self.chunks is None:
            headers.append((b"content-length", str(len(self.body)).encode()))
            await send({"type": "http.response.start", "status": self.status, "headers": headers})
            await send({"type": "http.response.body", "body": self.body})
            return
        if self.length is not None:
            headers.append((b"content-length", str(self.length).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        for chunk in self.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def json_response(doc: Any, status: int = 200) -> Response:
    return Response(status, dumps(doc))


def error_response(exc: LoomError, status: int | None = None) -> Response:
    doc = {"error_code": exc.code, "message": exc.message}
    if exc.hint:
        doc["hint"] = exc.hint
    return Response(status or exc.http_status, dumps(doc))


def dumps(doc: Any) -> bytes:
    try:
        return json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:  # a NaN or an infinity somewhere: proto3's strings for them
        return json.dumps(_finite(doc), separators=(",", ":")).encode()


def _finite(doc: Any) -> Any:
    if isinstance(doc, float) and not math.isfinite(doc):
        return "NaN" if math.isnan(doc) else ("Infinity" if doc > 0 else "-Infinity")
    if isinstance(doc, dict):
        return {k: _finite(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [_finite(v) for v in doc]
    return doc


def loads(body: bytes) -> Any:
    """A JSON body; a ValidationError (400) if it is not JSON."""
    if not body.strip():
        return {}
    try:
        doc = json.loads(body)
        if _ODD_ESCAPE.search(body):  # rare: escaped emoji are pairs, and pairs are fine
            _only_text(doc)
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise ValidationError(
            f"The request body is not valid JSON: {exc}.",
            hint="Send a JSON object with Content-Type: application/json.",
        ) from None
    except RecursionError:  # "[[[[…" nested deeper than Python's stack allows
        raise ValidationError(
            "The request body nests arrays or objects too deeply.",
            hint="No MLflow or Loom call needs more than a few levels.",
        ) from None
    return doc


# JSON may escape half of a UTF-16 pair ("\ud83d"), and one without its other half is
# no text a database can store; nor is NUL ("\u0000") to PostgreSQL
_ODD_ESCAPE = re.compile(rb"\\u(?:[dD][89a-fA-F][0-9a-fA-F]{2}|0000)")


def _only_text(doc: Any) -> None:
    if isinstance(doc, str):
        try:
            doc.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(
                "The request body holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is "
                "not text.",
                hint="Send valid Unicode.",
            ) from None
        if "\0" in doc:
            raise ValidationError("The request body holds a NUL character (\\u0000) in a string.")
    elif isinstance(doc, dict):
        for key, value in doc.items():
            _only_text(key)
            _only_text(value)
    elif isinstance(doc, list):
        for value in doc:
            _only_text(value)
