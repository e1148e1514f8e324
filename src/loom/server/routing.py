"""Endpoints as a table: method, path, handler, and the access the caller needs.

A handler is a plain function ``(ctx, msg) -> dict | Response`` run on a worker
thread; :class:`Access` says which permission it needs on which resource, so auth
is checked in one place (``loom.server.auth``) before any handler runs, and a
route without an ``Access`` cannot be written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loom.errors import ValidationError

if TYPE_CHECKING:
    from loom.server.http import Request, Response
    from loom.server.services import Services

READ, EDIT, MANAGE = "READ", "EDIT", "MANAGE"
LEVELS = ("NO_PERMISSIONS", READ, EDIT, MANAGE)


@dataclass(frozen=True)
class Access:
    """What a caller needs: ``level`` on the resource of ``kind`` named by ``key`` in the
    request. ``kind`` is ``experiment``, ``run`` (its experiment), ``model`` (a registered
    model), ``logged_model`` (its experiment), ``artifact_path`` (an artifact proxy path:
    its experiment is ``mlflow.artifacts.experiment_of_artifact_path(path)``), ``any`` (any
    signed-in user) or ``admin``."""

    kind: str
    level: str = READ
    key: str | None = None


ANY_USER = Access("any")
ADMIN = Access("admin", MANAGE)


@dataclass
class Ctx:
    services: Services
    request: Request
    user: str | None  # None when auth is off

    @property
    def store(self):  # -> loom.store.Store
        return self.services.store


Handler = Callable[[Ctx, "Msg"], "Mapping[str, Any] | Response"]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # under the API prefix; "{name}" segments are captured into the message
    handler: Handler
    access: Access
    raw: bool = False  # the handler reads the request itself (uploads): no JSON parsing
    small: bool = False  # a bounded point read or write (may run on the event loop)


class Router:
    """Endpoints under one or more prefixes; exact paths by dict, templated by regex."""

    def __init__(self, prefixes: Iterable[str], endpoints: Iterable[Endpoint]) -> None:
        self.prefixes = tuple(prefixes)
        self._exact: dict[tuple[str, str], Endpoint] = {}
        self._templated: list[tuple[str, re.Pattern[str], Endpoint]] = []
        for e in endpoints:
            if "{" in e.path:
                pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", e.path)
                if pattern.endswith("(?P<path>[^/]+)"):  # a trailing {path} takes slashes
                    pattern = pattern.removesuffix("[^/]+)") + ".+)"
                self._templated.append((e.method, re.compile(pattern + r"\Z"), e))
            else:
                self._exact[(e.method, e.path)] = e

    def match(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]] | bool | None:
        """(endpoint, captured) for a route here; False if the path is outside every
        prefix; None if it is inside one but no endpoint has it."""
        for prefix in self.prefixes:
            if path.startswith(prefix):
                rest = path[len(prefix) :]
                break
        else:
            return False
        found = self._exact.get((method, rest))
        if found is not None:
            return found, {}
        for m, pattern, e in self._templated:
            if m == method and (hit := pattern.match(rest)):
                return e, hit.groupdict()
        return None

    def methods_for(self, path: str) -> list[str]:
        for prefix in self.prefixes:
            if path.startswith(prefix):
                rest = path[len(prefix) :]
                exact = [m for (m, p) in self._exact if p == rest]
                return exact + [m for m, pat, _ in self._templated if pat.match(rest)]
        return []


class Msg:
    """A request's fields (a JSON body, or a query string), read with MLflow's rules and
    errors: a missing required field is INVALID_PARAMETER_VALUE naming it."""

    def __init__(self, doc: Mapping[str, Any], multi: Mapping[str, list[str]] | None = None):
        if not isinstance(doc, Mapping):
            raise ValidationError(
                "The request body must be a JSON object.", hint='Send {"field": value, …}.'
            )
        self.doc = doc
        self.multi = multi or {}

    @classmethod
    def from_query(cls, pairs: list[tuple[str, str]]) -> Msg:
        multi: dict[str, list[str]] = {}
        for k, v in pairs:
            multi.setdefault(k, []).append(v)
        return cls({k: v[-1] for k, v in multi.items()}, multi)

    def __contains__(self, key: str) -> bool:
        return self.doc.get(key) is not None

    def get(self, key: str, default: Any = None) -> Any:
        value = self.doc.get(key)
        return default if value is None else value

    def text(self, key: str, *, required: bool = False, default: str | None = None) -> Any:
        value = self.doc.get(key)
        if value is None or (required and value == ""):
            if required:
                raise missing(key)
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise bad(key, value, "a string")
        return str(value)

    def integer(self, key: str, *, required: bool = False, default: int | None = None) -> Any:
        value = self.doc.get(key)
        if value is None or value == "":
            if required:
                raise missing(key)
            return default
        if isinstance(value, bool):
            raise bad(key, value, "an integer")
        numeric = isinstance(value, float) and value.is_integer()
        if numeric or (isinstance(value, str) and re.fullmatch(r"-?\d{1,19}", value.strip())):
            value = int(value)
        # proto3's int64, which is also what the database's BIGINT columns hold
        if isinstance(value, int) and -(2**63) <= value < 2**63:
            return value
        raise bad(key, value, "a 64-bit integer")

    def number(self, key: str, *, required: bool = False) -> Any:
        value = self.doc.get(key)
        if value is None:
            if required:
                raise missing(key)
            return None
        return as_float(key, value)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.doc.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad(key, value, "true or false")

    def array(self, key: str) -> list[Any]:
        if key in self.multi:
            return list(self.multi[key])
        value = self.doc.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise bad(key, value, "a list")
        return value

    def objects(self, key: str) -> list[Msg]:
        return [Msg(item) for item in self.array(key)]


def as_float(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise bad(key, value, "a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        special = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf}
        if value.strip().lower() in special:
            return special[value.strip().lower()]
        try:
            return float(value)
        except ValueError:
            pass
    raise bad(key, value, "a number")


def missing(key: str) -> ValidationError:
    return ValidationError(
        f"Missing value for required parameter '{key}'.",
        hint="See MLflow's REST API documentation for this call's fields.",
    )


def bad(key: str, value: Any, want: str) -> ValidationError:
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return ValidationError(f"Invalid value {shown} for parameter '{key}': must be {want}.")
