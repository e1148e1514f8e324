"""API tokens: random text a program sends instead of a password.

A token is ``loom_`` plus 32 random bytes (URL-safe base64). The store keeps
only its SHA-256: the token is random, so no salt or slow hash is needed, and
checking one is a single index lookup.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "loom_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(secret: str) -> bool:
    return secret.startswith(PREFIX) and 40 <= len(secret) <= 100
