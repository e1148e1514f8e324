"""Content-addressed objects: hashing, the local object DB with packs, remotes, transfer, gc.

Light on import: remotes load fsspec and their cloud drivers only when opened.

    >>> from loom.objects import ObjectDB, open_remote, push, pull  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from loom.objects.hashing import hash_bytes, hash_file, hash_files
from loom.objects.odb import PACK_THRESHOLD, ObjectDB
from loom.objects.tree import Tree, TreeEntry

_LAZY = {
    "open_remote": "loom.objects.remote",
    "Remote": "loom.objects.remote",
    "push": "loom.objects.transfer",
    "pull": "loom.objects.transfer",
    "TransferResult": "loom.objects.transfer",
    "collect": "loom.objects.gc",
    "GcResult": "loom.objects.gc",
}

__all__ = [
    "PACK_THRESHOLD",
    "GcResult",
    "ObjectDB",
    "Remote",
    "TransferResult",
    "Tree",
    "TreeEntry",
    "collect",
    "hash_bytes",
    "hash_file",
    "hash_files",
    "open_remote",
    "pull",
    "push",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'loom.objects' has no attribute {name!r}")
