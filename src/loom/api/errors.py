"""Error bodies ``{"error_code", "message", "hint"}`` back into the LoomError they came from.

The map is built from the classes' own ``code`` (one place, so a new error class is
mapped the day it is written). Several classes share INVALID_PARAMETER_VALUE; the
client raises ValidationError for it, which is a UsageError too.
"""

from __future__ import annotations

from typing import Any

from loom import errors
from loom.errors import LoomError

# where several classes share a code, the one a caller catches
_PREFERRED: dict[str, type[LoomError]] = {"INVALID_PARAMETER_VALUE": errors.ValidationError}


def _classes(root: type[LoomError]) -> list[type[LoomError]]:
    found = [root]
    for sub in root.__subclasses__():
        found += _classes(sub)
    return found


def error_classes() -> dict[str, type[LoomError]]:
    """error_code -> class; the shallowest class that has the code wins."""
    table: dict[str, type[LoomError]] = {}
    for cls in _classes(LoomError):  # depth first from the root: parents come first
        if cls.__module__ == errors.__name__:
            table.setdefault(cls.code, cls)
    return {**table, **_PREFERRED}


_BY_CODE = error_classes()


def error_from_body(status: int, body: Any) -> LoomError:
    """The LoomError an error response stands for (its code kept if no class has it)."""
    doc = body if isinstance(body, dict) else {}
    code = str(doc.get("error_code") or "")
    message = str(doc.get("message") or f"The server answered HTTP {status}.")
    hint = doc.get("hint") if isinstance(doc.get("hint"), str) else None
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = errors.NotFoundError if status == 404 else LoomError
        exc = cls(message, hint=hint)
        if code:
            exc.code = code  # keep what the server said
        return exc
    return cls(message, hint=hint)
