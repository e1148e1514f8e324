"""OSErrors met by data commands, said as one LoomError naming the path and the cause.

The CLI turns any stray OSError into one line too; this says more where the
data layer knows more: that the file it could not write is in the cache.

    >>> with os_errors(ws, "fetch into the cache"):
    ...     transfer.pull(ws.odb, remote, oids)
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loom.data.workspace import Workspace
from loom.errors import FilesystemError, LoomError, from_oserror

_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


@contextmanager
def os_errors(ws: Workspace, doing: str) -> Iterator[None]:
    """Turn an OSError inside the block into ``describe(ws, exc, doing)``."""
    try:
        yield
    except OSError as exc:
        raise describe(ws, exc, doing) from None


def describe(ws: Workspace, exc: OSError, doing: str) -> LoomError:
    where = where_in(ws, exc)
    if exc.errno in _DENIED and where is not None and where.startswith(".loom/"):
        return FilesystemError(
            f"Cannot write to the cache {ws.odb.root}: {exc.strerror} ({where}).",
            hint=f"Check who may write there (`ls -ld {ws.odb.root}`): Loom stores data in "
            "it; a cache shared by several users needs group write permission on every "
            "folder in it.",
            path=where,
        )
    return from_oserror(exc, doing)


def where_in(ws: Workspace, exc: OSError) -> str | None:
    """The path an OSError is about: workspace-relative when inside, else absolute.

    For a rename that is the destination (``filename2``): the source is a temp file.
    """
    for name in (exc.filename2, exc.filename):
        if name is None:
            continue
        path = Path(os.path.abspath(os.fsdecode(name)))
        if path.is_relative_to(ws.root):
            return path.relative_to(ws.root).as_posix()
        return str(path)
    return None
