"""``log_input``: the data version a run consumed — path, content hash, size, kind, git revision.

The hash is the one ``loom.data`` records for a tracked path (its pointer file)
or the content hash computed in place, without storing anything.

    >>> data_version("data/train")  # doctest: +SKIP
    RunInput(path='data/train', hash='9f…', size=1234, kind='directory', git_rev='ab12…')
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from loom._types import StrPath
from loom.errors import NotFoundError
from loom.objects.hashing import hash_file, hash_files
from loom.objects.tree import Tree, TreeEntry
from loom.store.entities import RunInput


def git_head() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", "HEAD"], capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.decode().strip() or None if out.returncode == 0 else None


def data_version(path: StrPath, name: str | None = None) -> RunInput:
    p = Path(path)
    info = _data_info()
    if info is not None:
        v = info(p)
        # loom.data says "dir" where the store's RunInput says "directory".
        kind = "directory" if v.kind in ("dir", "directory") else "file"
        return RunInput(
            path=str(v.path), hash=v.hash, size=v.size, kind=kind, git_rev=git_head(), name=name
        )
    if not p.exists():
        raise NotFoundError(
            f"Cannot log input {str(path)!r}: no such file or directory.",
            hint="Check the path, or `loom pull` / `loom checkout` it first.",
            path=str(path),
        )
    oid, size, kind = _hash_in_place(p)
    return RunInput(
        path=p.as_posix(), hash=oid, size=size, kind=kind, git_rev=git_head(), name=name
    )


def _data_info():
    # loom.data.info is the workspace's notion of a data version (pointer hash for a
    # tracked path); fall back to hashing in place where loom.data has no such function.
    try:
        from loom.data import info
    except ImportError:
        return None
    return info


def _hash_in_place(p: Path) -> tuple[str, int, str]:
    if p.is_file():
        return hash_file(p), p.stat().st_size, "file"
    files = sorted(f for f in p.rglob("*") if f.is_file() and ".loom" not in f.parts)
    oids = hash_files(files)
    entries = [
        TreeEntry(f.relative_to(p).as_posix(), oid, f.stat().st_size, os.access(f, os.X_OK))
        for f, oid in zip(files, oids, strict=True)
    ]
    tree = Tree.from_entries(entries)
    return tree.oid, tree.size, "directory"
