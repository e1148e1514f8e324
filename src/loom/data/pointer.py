"""Pointer files: ``<path>.loom``, small YAML committed to git in place of the data.

path: raw            # relative to the pointer's folder
hash: 9f2c…          # BLAKE3 of the file, or of the tree manifest for a folder
size: 1048576        # bytes
files: 12            # folders only: number of files
kind: dir            # file | dir
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from loom import atomic, paths
from loom.errors import PointerError
from loom.objects.hashing import is_oid

SUFFIX = ".loom"
Kind = Literal["file", "dir"]
# What Loom itself writes: "key: value" lines of plain scalars. Those are parsed here
# without importing yaml (~70 ms of every `loom status`); anything else goes to yaml.
_SIMPLE = re.compile(r"^(path|hash|size|files|kind): ([A-Za-z0-9_.-][A-Za-z0-9_. -]*)$")


@dataclass(frozen=True)
class Pointer:
    """One tracked path. ``rel`` is workspace-relative (posix); ``path`` in YAML is the basename."""

    rel: str
    hash: str
    size: int
    kind: Kind
    files: int | None = None

    @property
    def pointer_rel(self) -> str:
        return self.rel + SUFFIX

    def to_yaml(self) -> str:
        import yaml

        doc: dict = {"path": self.rel.rsplit("/", 1)[-1], "hash": self.hash, "size": self.size}
        if self.kind == "dir":
            doc["files"] = self.files or 0
        doc["kind"] = self.kind
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True)


def _bad(where: str, why: str) -> PointerError:
    return PointerError(
        f"Pointer file {where} is not valid: {why}.",
        hint=f"Restore it with `git checkout -- {where}`, or re-create it with "
        f"`loom add {where[: -len(SUFFIX)]}`.",
        path=where,
    )


def parse(text: str | bytes, pointer_rel: str) -> Pointer:
    """Parse pointer YAML; ``pointer_rel`` is where it lives (workspace-relative)."""
    doc = _parse_simple(text) or _parse_yaml(text, pointer_rel)
    if not isinstance(doc, dict):
        raise _bad(pointer_rel, "expected a mapping with path, hash, size, kind")
    folder = pointer_rel.rsplit("/", 1)[0] if "/" in pointer_rel else ""
    name, oid, size, kind = (doc.get(k) for k in ("path", "hash", "size", "kind"))
    if not isinstance(name, str) or "/" in name or paths.problem(name, strict=False):
        raise _bad(pointer_rel, f"'path' must be a file or folder name, got {name!r}")
    if not is_oid(oid):
        raise _bad(pointer_rel, f"'hash' must be 64 lowercase hex digits, got {oid!r}")
    if not isinstance(size, int) or size < 0:
        raise _bad(pointer_rel, f"'size' must be a non-negative integer, got {size!r}")
    if kind not in ("file", "dir"):
        raise _bad(pointer_rel, f"'kind' must be file or dir, got {kind!r}")
    files = doc.get("files")
    if kind == "dir" and (not isinstance(files, int) or files < 0):
        raise _bad(pointer_rel, f"'files' must be a non-negative integer, got {files!r}")
    rel = f"{folder}/{name}" if folder else name
    return Pointer(rel, oid, size, kind, files if kind == "dir" else None)


def _parse_simple(text: str | bytes) -> dict | None:
    try:
        lines = (text.decode("utf-8") if isinstance(text, bytes) else text).splitlines()
    except UnicodeDecodeError:
        return None
    doc: dict = {}
    for line in lines:
        m = _SIMPLE.match(line)
        if m is None or m[1] in doc or m[2] != m[2].strip():
            return None
        doc[m[1]] = int(m[2]) if m[2].isdigit() and m[1] in ("size", "files") else m[2]
    return doc if {"path", "hash", "size", "kind"} <= doc.keys() else None


def _parse_yaml(text: str | bytes, pointer_rel: str):
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise _bad(pointer_rel, f"not YAML ({str(exc).splitlines()[0]})") from None


def load(root: Path, pointer_rel: str) -> Pointer:
    path = root / pointer_rel
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise PointerError(
            f"Pointer file {pointer_rel} does not exist.",
            hint="Run `loom add <path>` to track the data, or `git checkout` the pointer.",
            path=pointer_rel,
        ) from None
    return parse(text, pointer_rel)


def save(root: Path, ptr: Pointer) -> None:
    """Write the pointer atomically (temp file + rename), so it is whole or absent."""
    atomic.write_text(root / ptr.pointer_rel, ptr.to_yaml())
