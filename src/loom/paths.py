"""The one rule for relative paths that arrive from outside (layer 0).

Artifact paths, names in pointer files, entries of tree objects fetched from
a remote and (later) every path the server receives pass through here. A path
is checked, never repaired: ``a//b`` or ``./a`` is refused, not normalised,
so two spellings can never name one file.

Every path must be a non-empty relative POSIX path: no leading ``/``, no
empty, ``.`` or ``..`` part, no NUL, each part at most 255 bytes of valid
UTF-8. ``strict`` (the default, for names that clients choose) also refuses
backslashes and control characters; file names found on disk (tree entries,
pointer names) may hold both, as Linux allows.

    >>> check_relative("reports/summary.txt")
    'reports/summary.txt'
    >>> problem("../etc/passwd")
    "it has a '..' part"
"""

from __future__ import annotations

import re

from loom.errors import ValidationError

MAX_NAME_BYTES = 255  # what Linux filesystems allow for one name
MAX_PATH_CHARS = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def problem(path: object, *, strict: bool = True) -> str | None:
    """Why ``path`` is not a safe relative path, or None if it is."""
    if not isinstance(path, str):
        return f"it is a {type(path).__name__}, not a string"
    if not path:
        return "it is empty"
    if len(path) > MAX_PATH_CHARS:
        return f"it is {len(path)} characters long, the limit is {MAX_PATH_CHARS}"
    if "\0" in path:
        return "it contains a NUL character"
    if path.startswith("/"):
        return "it is absolute"
    if strict and "\\" in path:
        return "it contains a backslash"
    if strict and _CONTROL.search(path):
        return "it contains a control character"
    for part in path.split("/"):
        if part == "":
            return "it has an empty part ('//' or a trailing '/')"
        if part in (".", ".."):
            return f"it has a {part!r} part"
        try:
            size = len(part.encode("utf-8"))
        except UnicodeEncodeError:
            return "it is not valid UTF-8"
        if size > MAX_NAME_BYTES:
            return f"a part of it is {size} bytes long, the limit is {MAX_NAME_BYTES}"
    return None


def check_relative(path: object, what: str = "path", *, strict: bool = True) -> str:
    """``path`` itself if it is a safe relative path, else a ValidationError naming ``what``."""
    why = problem(path, strict=strict)
    if why is not None:
        raise ValidationError(
            f"Invalid {what} {path!r}: {why}.",
            hint="Use a relative path with forward slashes, e.g. 'reports/summary.txt'.",
            path=str(path),
        )
    return path  # type: ignore[return-value]


def check_name(name: object, what: str = "name", *, strict: bool = True) -> str:
    """A single path component: a safe relative path without ``/``."""
    if isinstance(name, str) and "/" in name:
        raise ValidationError(
            f"Invalid {what} {name!r}: it must be a single name, without '/'.",
            hint="Name the file or folder itself, not a path to it.",
            path=name,
        )
    return check_relative(name, what, strict=strict)


def join(prefix: str | None, name: str) -> str:
    """``prefix/name`` (``prefix`` may end in ``/``; None or "" means no prefix)."""
    prefix = (prefix or "").rstrip("/")
    return f"{prefix}/{name}" if prefix else name


def is_inside(prefix: str, path: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it (both checked relative paths)."""
    return path == prefix or path.startswith(prefix + "/")
