"""Choosing pointers: all of them, or those a user named (by data path or pointer path)."""

from __future__ import annotations

from collections.abc import Sequence

from loom._types import StrPath
from loom.data import pointer as ptrs
from loom.data.pointer import Pointer
from loom.data.walk import find_pointers
from loom.data.workspace import Workspace
from loom.errors import PointerError


def select_pointers(ws: Workspace, paths: Sequence[StrPath] = ()) -> list[Pointer]:
    """Pointers for ``paths`` (``data/raw`` or ``data/raw.loom``), or every pointer."""
    if not paths:
        return [ptrs.load(ws.root, p) for p in find_pointers(ws.root, use_git=ws.has_git)]
    out: dict[str, Pointer] = {}
    for p in paths:
        rel = ws.rel(p)
        if not rel.endswith(ptrs.SUFFIX):
            rel += ptrs.SUFFIX
        if not (ws.root / rel).is_file():
            raise PointerError(
                f"{p} is not tracked: {rel} does not exist.",
                hint=f"Run `loom add {p}` to track it, or `loom status` to list what is tracked.",
                path=str(p),
            )
        ptr = ptrs.load(ws.root, rel)
        out[ptr.rel] = ptr
    return list(out.values())
