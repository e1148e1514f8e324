"""Choosing what a command works on: every pointer, or the paths a user named.

A named path is a tracked path (``data/raw`` or its pointer ``data/raw.loom``)
or a file or folder inside a tracked folder (``data/raw/sub/b.csv``): the
pointer that covers it is the one for the path itself or for the nearest
folder above it. ``cover`` is that rule, for the workspace and for any git
revision (``loom.data.read``), so both always agree.

    >>> [t.ptr.rel for t in select_targets(ws, ["data/raw/sub/b.csv"])]
    ['data/raw']
"""

from __future__ import annotations

import errno
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loom import paths as paths_rule
from loom._types import StrPath
from loom.data import pointer as ptrs
from loom.data.pointer import Pointer
from loom.data.walk import find_pointers
from loom.data.workspace import Workspace
from loom.errors import NotFoundError, PointerError


@dataclass(frozen=True)
class Target:
    """A pointer, and the parts of its folder asked for (``within``; empty: all of it)."""

    ptr: Pointer
    within: tuple[str, ...] = ()

    def wants(self, rel: str) -> bool:
        """Whether ``rel`` (relative to the tracked folder) is part of what was asked for."""
        return not self.within or any(paths_rule.is_inside(w, rel) for w in self.within)

    def check_within(self, *listings: Sequence[str] | set[str] | dict) -> None:
        """NotFoundError for an inner path that names nothing in any of ``listings``."""
        for inner in self.within:
            prefix = inner + "/"
            if not any(
                inner in names or any(n.startswith(prefix) for n in names) for names in listings
            ):
                rel = f"{self.ptr.rel}/{inner}"
                raise NotFoundError(
                    f"{rel} is not in the tracked folder {self.ptr.rel}, nor in the workspace.",
                    hint=f"`loom status {shlex.quote(self.ptr.rel)}` lists what it holds.",
                    path=rel,
                )


def cover(rel: str, read: Callable[[str], bytes | None]) -> tuple[Pointer, str] | None:
    """The pointer for ``rel`` or the nearest folder above it, and ``rel`` inside it.

    ``read(pointer_rel)`` returns a pointer file's bytes, or None where there is none
    (in the workspace, or at a git revision).
    """
    parts = rel.split("/")
    for i in range(len(parts), 0, -1):
        cand = "/".join(parts[:i])
        text = read(cand + ptrs.SUFFIX)
        if text is not None:
            return ptrs.parse(text, cand + ptrs.SUFFIX), rel[len(cand) + 1 :]
    return None


def read_pointer(ws: Workspace, pointer_rel: str) -> bytes | None:
    """A pointer file's bytes in the workspace, or None if there is none."""
    try:
        return (ws.root / pointer_rel).read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:  # a 255-byte name inside a folder: no pointer
            return None
        raise


def select_targets(ws: Workspace, paths: Sequence[StrPath] = ()) -> list[Target]:
    """What ``paths`` name (see the module doc), or every pointer; one Target per pointer."""
    if not paths:
        return [Target(ptrs.load(ws.root, p)) for p in find_pointers(ws.root, use_git=ws.has_git)]
    out: dict[str, Target] = {}
    for p in paths:
        rel = ws.rel(p)
        if rel.endswith(ptrs.SUFFIX):
            rel = rel[: -len(ptrs.SUFFIX)]
        found = cover(rel, lambda pointer_rel: read_pointer(ws, pointer_rel))
        if found is None:
            raise PointerError(
                f"{p} is not tracked: neither {rel}{ptrs.SUFFIX} nor a pointer file of a "
                "folder above it exists.",
                hint=f"Run `loom add {shlex.quote(str(p))}` to track it, or `loom status` "
                "to list what is tracked.",
                path=str(p),
            )
        ptr, inner = found
        if inner and ptr.kind == "file":
            raise PointerError(
                f"{p} can't be inside {ptr.rel}, which is a tracked file.",
                hint=f"Name {ptr.rel} itself.",
                path=str(p),
            )
        before = out.get(ptr.rel)
        if not inner or (before is not None and not before.within):
            out[ptr.rel] = Target(ptr)
        else:
            out[ptr.rel] = Target(ptr, (before.within if before else ()) + (inner,))
    return list(out.values())


def select_pointers(ws: Workspace, paths: Sequence[StrPath] = ()) -> list[Pointer]:
    """The pointers for ``paths`` (a path inside a tracked folder gives that folder's)."""
    return [t.ptr for t in select_targets(ws, paths)]
