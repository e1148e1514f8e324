"""Who is calling: HTTP basic (user and password, or user and token) or a bearer token.

``MLFLOW_TRACKING_USERNAME/PASSWORD`` arrive as basic auth and
``MLFLOW_TRACKING_TOKEN`` as ``Authorization: Bearer``; clients that only speak
basic may send a token as the password. Every failure is the same 401, whether
the name is unknown or the password wrong.

Argon2 costs tens of milliseconds per check, far over a logged metric's budget,
so each process remembers what it verified: a keyed hash of (user, password)
-> the stored hash it matched. The user's row is still read on every request
and the memory counts only while the stored hash is unchanged, so a new
password or a deleted user takes effect at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from loom.errors import LoomError
from loom.server.auth import passwords, tokens
from loom.server.http import Request

if TYPE_CHECKING:
    from loom.server.services import Services
    from loom.store.users import User

CHALLENGE = ("WWW-Authenticate", 'Basic realm="loom", charset="UTF-8"')
ADMIN_KEY = "loom.admin"  # the request's scope says whether its user is an admin
_KEY = secrets.token_bytes(32)  # per process: the cache's keys mean nothing elsewhere
_CACHE_MAX = 10_000


class Unauthenticated(LoomError):
    code = "UNAUTHENTICATED"
    http_status = 401


def unauthenticated() -> Unauthenticated:
    return Unauthenticated(
        "Sign in: this server needs a user name and password, or an API token.",
        hint="Set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or "
        "MLFLOW_TRACKING_TOKEN (`loom server tokens create USER --name NAME`).",
    )


def authenticate(services: Services, request: Request) -> str | None:
    """The signed-in user's name; None when auth is off; a 401 otherwise."""
    if not services.settings.auth:
        return None
    user = _identify(services, request.headers.get("authorization", ""))
    if user is None:
        raise unauthenticated()
    request.scope[ADMIN_KEY] = user.is_admin
    return user.name


def _identify(services: Services, header: str) -> User | None:
    scheme, _, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value:
        return services.store.token_user(tokens.token_hash(value))
    if scheme != "basic":
        return None
    pair = _basic(value)
    if pair is None:
        return None
    name, secret = pair
    if tokens.looks_like_token(secret):
        owner = services.store.token_user(tokens.token_hash(secret))
        if owner is not None:
            return owner if hmac.compare_digest(owner.name, name) else None
    return _password_user(services, name, secret)


def _basic(value: str) -> tuple[str, str] | None:
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    name, colon, secret = text.partition(":")
    return (name, secret) if colon and name else None


def _password_user(services: Services, name: str, password: str) -> User | None:
    user = services.store.get_user(name) if len(name) <= 250 else None
    if user is None:
        passwords.verify(passwords.dummy_hash(), password)  # the same time as a real check
        return None
    cache: dict[bytes, str] = services.cache.setdefault("credentials", {})
    key = hmac.new(_KEY, f"{name}\0{password}".encode(), hashlib.blake2b).digest()
    remembered = cache.get(key)
    if remembered is not None and hmac.compare_digest(remembered, user.password_hash):
        return user
    if not passwords.verify(user.password_hash, password):
        return None
    if len(cache) >= _CACHE_MAX:
        cache.clear()  # rare: start over rather than keep every password ever sent
    cache[key] = user.password_hash
    return user
