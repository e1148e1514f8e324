"""Small shared type aliases (layer 0)."""

from __future__ import annotations

import os
from typing import TypeAlias

StrPath: TypeAlias = str | os.PathLike[str]
Oid: TypeAlias = str  # lowercase hex BLAKE3 digest
