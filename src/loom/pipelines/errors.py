"""Where in ``loom.yaml`` something is, and the error that names that place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loom.errors import UsageError


@dataclass(frozen=True)
class Where:
    """A place in a file: ``loom.yaml:12``."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class PipelineError(UsageError):
    """``loom.yaml`` (or a file it names) is wrong; the message starts with file and line."""

    code = "INVALID_PIPELINE"

    def __init__(
        self, where: Where | None, message: str, *, hint: str | None = None, **fields: Any
    ):
        text = f"{where}: {message}" if where is not None else message
        file = where.file if where else None
        line = where.line if where else None
        super().__init__(text, hint=hint, file=file, line=line, **fields)
