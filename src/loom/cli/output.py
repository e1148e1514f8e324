"""Console output shared by the commands: rich for people, JSON for programs."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout, one document, no colour."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, allow_nan=True) + "\n")
    sys.stdout.flush()


def print_error(message: str, hint: str | None) -> None:
    from rich.markup import escape  # messages hold paths and hints like loom[gs]: not markup

    err_console.print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)
    if hint:
        err_console.print(f"[yellow]Hint:[/] {escape(hint)}", soft_wrap=True)
