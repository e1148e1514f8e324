"""Console output shared by every command: plain lines and strict JSON, rich only when needed.

Importing this module is cheap (no rich): the console script's fast path
prints through it too. ``console`` and ``err_console`` (rich, for tables)
are made on first use.

    >>> size(1536)
    '1.5 KiB'
    >>> dumps({"loss": float("nan")}, indent=None)
    '{"loss": "NaN"}'
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any, TextIO

_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")
# How --json writes the floats JSON has no literal for (as MLflow's REST API does).
NON_FINITE = {"NaN": float("nan"), "Infinity": math.inf, "-Infinity": -math.inf}
JSON_HELP = 'Print JSON (NaN and infinities as the strings "NaN", "Infinity", "-Infinity").'

_consoles: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    """``console`` (stdout) and ``err_console`` (stderr): rich consoles, made on first use."""
    if name not in ("console", "err_console"):
        raise AttributeError(name)
    if name not in _consoles:
        from rich.console import Console

        _consoles[name] = Console(stderr=name == "err_console", highlight=False)
    return _consoles[name]


def say(line: str = "") -> None:
    """One plain line on stdout (paths and names are never read as markup)."""
    sys.stdout.write(line + "\n")


def size(n: int) -> str:
    """A byte count for people: ``512 B``, ``1.5 MiB``. --json keeps the exact count."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in _UNITS:
        value /= 1024
        if round(value, 1) < 1024 or unit == _UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def strict(data: Any) -> Any:
    """``data`` with every NaN and infinity replaced by its string (see ``NON_FINITE``)."""
    if isinstance(data, float) and not math.isfinite(data):
        return "NaN" if data != data else ("Infinity" if data > 0 else "-Infinity")
    if isinstance(data, dict):
        return {k: strict(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [strict(v) for v in data]
    return data


def dumps(data: Any, indent: int | None = 2) -> str:
    """Strict JSON (RFC 8259): any parser reads it; non-finite floats become strings."""
    return json.dumps(strict(data), indent=indent, default=str, allow_nan=False)


def print_json(data: Any) -> None:
    """Write ``data`` as one strict JSON document to stdout, no colour."""
    sys.stdout.write(dumps(data) + "\n")
    sys.stdout.flush()


def paint(stream: TextIO, code: str, text: str) -> str:
    """``text`` in ANSI colour ``code`` when ``stream`` is a terminal and NO_COLOR is unset."""
    if "NO_COLOR" in os.environ or not stream.isatty():
        return text
    return f"\x1b[{code}m{text}\x1b[0m"


def _to_stderr(label: str, code: str, message: str, hint: str | None) -> None:
    err = sys.stderr
    lines = [f"{paint(err, code, label)} {message}"]
    if hint:
        lines.append(f"{paint(err, '33', 'Hint:')} {hint}")
    err.write("".join(line + "\n" for line in lines))
    err.flush()


def print_error(message: str, hint: str | None = None) -> None:
    """``Error: message`` and ``Hint: hint`` on stderr."""
    _to_stderr("Error:", "1;31", message, hint)


def print_warning(message: str, hint: str | None = None) -> None:
    """``Warning: message`` and ``Hint: hint`` on stderr; the command goes on."""
    _to_stderr("Warning:", "33", message, hint)
