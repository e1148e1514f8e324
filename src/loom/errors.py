"""Loom's exception tree.

Every error carries a finished message for a person, a hint (usually the next
command to run) and structured fields. The CLI prints ``message`` and ``hint``;
the server (later) maps ``code`` to an HTTP status.

    LoomError
    ├── UsageError              bad input from the caller (4xx)
    │   ├── ValidationError     a value breaks a documented limit
    │   │   └── PackageError    a model package's loom-model.yaml is missing or wrong
    │   ├── NotFoundError       a named thing does not exist
    │   ├── AlreadyExistsError  a unique name is taken
    │   └── ConflictError       a write contradicts what is stored
    ├── WorkspaceError          the workspace or a pointer file is wrong
    │   ├── NotAWorkspaceError
    │   ├── PointerError
    │   └── LockedError         another loom process holds the workspace
    ├── ObjectError             the object store
    │   ├── MissingObjectError
    │   └── CorruptObjectError  bytes don't match their name
    ├── RemoteError             a remote is missing, unknown or unreachable
    │   └── NoRemoteError
    ├── StoreError              the tracking store (SQL)
    ├── FilesystemError         an OSError, with the path and a hint fitting its errno
    └── DependencyError         an optional package is missing

Warnings go through :func:`warn` (a ``LoomWarning``): the CLI prints them as
one ``Warning:`` line plus a hint, library users get Python's warnings.
"""

from __future__ import annotations

import errno
import os
import warnings
from typing import Any


class LoomError(Exception):
    """Root of every error Loom raises on purpose."""

    code = "LOOM_ERROR"
    http_status = 500

    def __init__(self, message: str, *, hint: str | None = None, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.fields = fields

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"error_code": self.code, "message": self.message, "hint": self.hint}


class UsageError(LoomError):
    code = "INVALID_PARAMETER_VALUE"
    http_status = 400


class ValidationError(UsageError):
    code = "INVALID_PARAMETER_VALUE"


class PackageError(ValidationError):
    """A model package's ``loom-model.yaml`` is missing or wrong (the message names it)."""


class NotFoundError(UsageError):
    code = "RESOURCE_DOES_NOT_EXIST"
    http_status = 404


class AlreadyExistsError(UsageError):
    code = "RESOURCE_ALREADY_EXISTS"
    http_status = 409


class ConflictError(UsageError):
    code = "INVALID_STATE"
    http_status = 409


class WorkspaceError(LoomError):
    code = "WORKSPACE_ERROR"
    http_status = 400


class NotAWorkspaceError(WorkspaceError):
    code = "NOT_A_WORKSPACE"


class PointerError(WorkspaceError):
    code = "BAD_POINTER"


class LockedError(WorkspaceError):
    code = "LOCKED"
    http_status = 409


class ObjectError(LoomError):
    code = "OBJECT_ERROR"


class MissingObjectError(ObjectError):
    code = "MISSING_OBJECT"
    http_status = 404


class CorruptObjectError(ObjectError):
    code = "CORRUPT_OBJECT"


class RemoteError(LoomError):
    code = "REMOTE_ERROR"
    http_status = 502


class NoRemoteError(RemoteError):
    code = "NO_REMOTE"
    http_status = 400


class StoreError(LoomError):
    code = "STORE_ERROR"


class DependencyError(LoomError):
    code = "MISSING_DEPENDENCY"


class FilesystemError(LoomError):
    """An operating-system error on a local file, said with its path and a fitting hint."""

    code = "FILESYSTEM_ERROR"


class LinkError(ObjectError):
    """A checkout link mode is impossible here (e.g. a hardlink across devices); try the next."""

    code = "LINK_UNSUPPORTED"


class LoomWarning(UserWarning):
    """Something the user should know that does not stop the command."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f" Hint: {self.hint}" if self.hint else "")


def warn(message: str, *, hint: str | None = None, stacklevel: int = 2) -> None:
    """Tell the user ``message`` (and ``hint``) without stopping: once per message."""
    warnings.warn(LoomWarning(message, hint), stacklevel=stacklevel + 1)


_SPACE = {errno.ENOSPC, errno.EDQUOT}
_DENIED = {errno.EACCES, errno.EPERM}


def from_oserror(exc: OSError, doing: str | None = None) -> FilesystemError:
    """The OSError ``exc`` as one line with its path and the hint that fits its errno.

    >>> from_oserror(PermissionError(13, "Permission denied", "/x")).hint[:5]
    'Check'
    """
    path = exc.filename if exc.filename is not None else None
    where = f" {os.fsdecode(path)}" if path is not None else ""
    what = f"Cannot {doing}" if doing else "Cannot go on"
    reason = exc.strerror or type(exc).__name__
    code = exc.errno
    if code in _DENIED:
        hint = (
            f"Check the permissions of{where or ' the path'} (`ls -ld`); "
            "Loom must be able to read and write there."
        )
    elif code == errno.EROFS:
        hint = "That filesystem is mounted read-only; use a writable location."
    elif code in _SPACE:
        hint = "Free some space (`loom gc --workspace` removes unused cache objects) and run again."
    elif code == errno.ENAMETOOLONG:
        hint = "Shorten the file or folder name; most filesystems allow 255 bytes per name."
    elif code == errno.ELOOP:
        hint = "A symlink points (directly or not) at itself; remove or fix it."
    elif code == errno.ENOENT:
        hint = "Check the path; if another program moved it meanwhile, run the command again."
    elif code in (errno.EMFILE, errno.ENFILE):
        hint = "Too many open files: raise the limit (`ulimit -n 4096`) or use fewer jobs (-j)."
    elif code == errno.EIO:
        hint = "The disk reported an I/O error; check it (`dmesg`) before trusting its data."
    else:
        hint = "Run again with LOOM_DEBUG=1 to see where it happened."
    return FilesystemError(
        f"{what}:{where}: {reason}." if where else f"{what}: {reason}.",
        hint=hint,
        path=os.fsdecode(path) if path else None,
    )
