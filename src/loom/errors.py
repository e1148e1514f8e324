"""Loom's exception tree.

Every error carries a finished message for a person, a hint (usually the next
command to run) and structured fields. The CLI prints ``message`` and ``hint``;
the server (later) maps ``code`` to an HTTP status.

    LoomError
    ├── UsageError              bad input from the caller (4xx)
    │   ├── ValidationError     a value breaks a documented limit
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
    └── DependencyError         an optional package is missing
"""

from __future__ import annotations

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


class LinkError(ObjectError):
    """A checkout link mode is impossible here (e.g. a hardlink across devices); try the next."""

    code = "LINK_UNSUPPORTED"
