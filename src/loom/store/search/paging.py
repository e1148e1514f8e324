"""Opaque page tokens: an offset plus a fingerprint of the query it belongs to.

>>> token = encode_token(100, "abc")
>>> decode_token(token, "abc")
100
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from loom.errors import ValidationError

_HINT = "Repeat the search without a page token, then pass the next_page_token it returns."


def fingerprint(*parts: object) -> str:
    """A short hash of the query, so a token can't be replayed on another search."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def encode_token(offset: int, fp: str) -> str:
    raw = json.dumps({"o": offset, "f": fp}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None, fp: str) -> int:
    """The offset in ``token``; 0 for no token; ValidationError for a bad or foreign one."""
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset, token_fp = data["o"], data["f"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise ValidationError(f"Invalid page token {token[:40]!r}.", hint=_HINT) from None
    if not isinstance(offset, int) or offset < 0 or token_fp != fp:
        raise ValidationError(
            "The page token belongs to a different search (filter, order or experiments).",
            hint=_HINT,
        )
    return offset
