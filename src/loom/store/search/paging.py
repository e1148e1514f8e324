"""Opaque page tokens: an offset plus a fingerprint of the query it belongs to.

>>> token = encode_token((1, 100), "abc")
>>> decode_token(token, "abc")
(1, 100)
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


def encode_token(position: tuple[int, int], fp: str) -> str:
    """``position`` is (segment of the search plan, offset in it)."""
    raw = json.dumps({"s": position[0], "o": position[1], "f": fp}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str | None, fp: str) -> tuple[int, int]:
    """(segment, offset) in ``token``; (0, 0) for none; ValidationError for a bad one."""
    if not token:
        return (0, 0)
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        segment, offset, token_fp = data["s"], data["o"], data["f"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise ValidationError(f"Invalid page token {token[:40]!r}.", hint=_HINT) from None
    ints = all(isinstance(x, int) and not isinstance(x, bool) for x in (segment, offset))
    if not ints or segment < 0 or segment > 2 or offset < 0 or token_fp != fp:
        raise ValidationError(
            "The page token belongs to a different search (filter, order or experiments).",
            hint=_HINT,
        )
    return (segment, offset)
