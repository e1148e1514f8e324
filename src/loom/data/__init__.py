"""Data versioning in a git workspace: pointer files, the cache, remotes.

Cheap to import: only the reading API is exported, and it loads on first use.

    >>> import loom
    >>> loom.data.read("data/raw/a.csv", rev="HEAD~1")
    >>> loom.data.info("data/raw")      # DataVersion(path, hash, size, kind, files, tracked)
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["DataVersion", "info", "open", "read"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("loom.data.api"), name)
    raise AttributeError(f"module 'loom.data' has no attribute {name!r}")
