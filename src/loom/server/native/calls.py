"""One FastAPI route per Backend method, built from the method's signature.

The route table (:data:`loom.api.routes.ROUTES`) says verb and path; the method's
type hints say the fields, so the request models OpenAPI documents are the
contract itself and cannot drift from it. A handler checks access, puts the
signed-in user where the method records one, calls :class:`StoreBackend` and
answers the entities as JSON (non-finite floats as MLflow's strings).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, create_model

from loom.api import codec
from loom.api.routes import PREFIX, ROUTES, Route
from loom.entities import Metric
from loom.errors import ValidationError
from loom.server.http import dumps
from loom.server.native import access
from loom.server.native.store_backend import StoreBackend
from loom.server.services import Services
from loom.tracking.backend import Backend

JSON = "application/json"


class MetricIn(BaseModel):
    """A metric as sent: numbers are not coerced here, so the store refuses what it
    can't keep exactly (a string, 10**400, a 65-bit step) with its own message."""

    key: str
    value: float | int | str
    timestamp: int | float | str
    step: int | float | str = 0

    def entity(self) -> Metric:
        return Metric(self.key, self.value, self.timestamp, self.step)  # type: ignore[arg-type]


def add_routes(app: Any, services: Services) -> None:
    backend = StoreBackend(services.store)
    for name, route in ROUTES.items():
        method = getattr(Backend, name)
        hints = typing.get_type_hints(method)
        app.add_api_route(
            PREFIX + route.path,
            _handler(services, backend, name, route, hints),
            methods=[route.verb],
            name=name,
            summary=name.replace("_", " ").capitalize(),
            description=inspect.getdoc(method) or "",
            response_model=_documented(hints.get("return")),
            tags=[route.path.split("/")[1]],
        )


def _handler(
    services: Services, backend: StoreBackend, name: str, route: Route, hints: dict[str, Any]
) -> Callable[..., Any]:
    from fastapi import Query, Request
    from fastapi.responses import Response

    params = _params(getattr(Backend, name))
    call = getattr(backend, name)
    model = None if route.verb == "GET" else _body_model(name, params, hints)

    def handler(request: Request, **kw: Any) -> Response:
        args = _arguments(kw["body"]) if model is not None else kw
        ctx = access.context(services, request)
        access.authorize(ctx, route, args)
        if "user" in params and ctx.user is not None:
            args["user"] = ctx.user  # who made the change is who signed in
        after = access.before(ctx, name, args)
        try:
            result = call(**args)
        except OverflowError as exc:  # SQLite's driver, on an int past 64 bits the store let by
            raise ValidationError(
                f"A number in the request doesn't fit in 64 bits ({exc}).",
                hint="Times are milliseconds, sizes bytes: send values below 2**63.",
            ) from None
        after(result)
        result = access.visible(ctx, name, route, result)
        return Response(dumps(codec.encode(result)), media_type=JSON)

    signature = [inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request)]
    if model is not None:
        signature.append(
            inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=model)
        )
    else:
        for p in params.values():
            default = Query(... if p.default is inspect.Parameter.empty else p.default)
            signature.append(p.replace(annotation=hints[p.name], default=default))
    handler.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    handler.__name__ = name
    return handler


def _params(method: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    ps = list(inspect.signature(method).parameters.values())[1:]  # without self
    return {p.name: p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in ps}


def _body_model(
    name: str, params: dict[str, inspect.Parameter], hints: dict[str, Any]
) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for p in params.values():
        hint = hints[p.name]
        if typing.get_args(hint) == (Metric,):
            hint = list[MetricIn]
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (hint, default)
    title = "".join(w.capitalize() for w in name.split("_")) + "Request"
    return create_model(title, **fields)


def _arguments(body: BaseModel) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for key in type(body).model_fields:
        value = getattr(body, key)
        if isinstance(value, Sequence) and value and isinstance(value[0], MetricIn):
            value = [m.entity() for m in value]
        args[key] = value
    return args


def _documented(tp: Any) -> Any:
    """The answer's type for OpenAPI; None where pydantic can't describe it."""
    if tp is None or tp is type(None):
        return None
    try:
        from pydantic import TypeAdapter

        TypeAdapter(tp).json_schema()
    except Exception:  # a type only for documentation: never fail the app for it
        return None
    return tp
