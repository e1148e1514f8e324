"""Keeping tracked data out of git: one ``/name`` line in the ``.gitignore`` beside it."""

from __future__ import annotations

from pathlib import Path

from loom import atomic
from loom.errors import UsageError

_GLOB = set("*?[\\")


def pattern(name: str) -> str:
    """The gitignore line that matches exactly ``name`` in this folder."""
    if "\n" in name or "\r" in name:
        raise UsageError(
            f"{name!r} has a line break in its name, which .gitignore can't express.",
            hint="Rename it, or put it inside a folder and add the folder.",
            path=name,
        )
    escaped = "".join("\\" + c if c in _GLOB else c for c in name)
    if escaped[0] in "#!":
        escaped = "\\" + escaped
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return "/" + escaped


def ensure_ignored(folder: Path, name: str) -> bool:
    """Add ``name`` to ``folder/.gitignore`` unless already there; returns whether it changed."""
    line = pattern(name)
    path = folder / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if line in text.splitlines():
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    atomic.write_text(path, text + line + "\n")
    return True
