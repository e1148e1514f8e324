"""A model package's files on disk, verified, in a cache folder keyed by its tree hash.

Layout, under the cache root (``<object store>/models``, or the user cache
folder when a server keeps the objects)::

    models/<tree>/package/…     the package's files, each checked against its hash
    models/<tree>/stat.json     size and mtime of each file as written

The folder is built beside its final name and renamed into place whole, so
a reader sees all of it or none. A later load re-checks sizes and mtimes (a
stat per file, no hashing); a file changed since is noticed and the folder
rebuilt from the verified objects. Objects the cache lacks are fetched first
(a model logged from a teammate's clone); a tampered object is a
CorruptObjectError, never a silently wrong model.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from loom import atomic, paths
from loom.errors import ValidationError, from_oserror
from loom.objects.tree import Tree
from loom.tracking.backend import Backend

PACKAGE = "package"
STAT = "stat.json"
_STALE_TEMP = 3600  # seconds: a temp folder this old was left by a killed process


def cache_root(backend: Backend) -> Path:
    root = backend.artifact_root
    if root is not None:
        return root / "models"
    import platformdirs

    return Path(platformdirs.user_cache_dir("loom", appauthor=False)) / "models"


def new_temp(backend: Backend) -> Path:
    """A fresh empty folder in the cache root (same filesystem as the final folders)."""
    root = cache_root(backend)
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(atomic.temp_path(root))
        tmp.mkdir()
    except OSError as exc:
        raise from_oserror(exc, "make a folder for the model in") from None
    return tmp


def read_object(backend: Backend, oid: str, run_id: str | None) -> bytes:
    """The verified bytes of one object (fetched first if the cache lacks it)."""
    backend.fetch_missing(run_id or "?", [oid])
    tmp = new_temp(backend)
    try:
        backend.get_file(oid, tmp / "object")
        return (tmp / "object").read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def materialize(backend: Backend, tree: Tree, tree_oid: str, run_id: str | None) -> Path:
    """The package folder of ``tree``: reused when intact, else built from verified objects."""
    final = cache_root(backend) / tree_oid
    if _intact(final):
        return final / PACKAGE
    backend.fetch_missing(run_id or "?", sorted({e.hash for e in tree.entries}))
    tmp = new_temp(backend)
    try:
        _sweep(tmp.parent)
        _write(backend, tree, tmp / PACKAGE)
        return install(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def install(tmp: Path, final: Path) -> Path:
    """Record the stat of ``tmp/package`` and rename ``tmp`` to ``final``; return the package.

    Another process may have installed ``final`` meanwhile: an intact one wins; a
    broken one is moved aside and removed first.
    """
    stats = {
        p.relative_to(tmp / PACKAGE).as_posix(): _stat(p)
        for p in (tmp / PACKAGE).rglob("*")
        if p.is_file()
    }
    atomic.write_text(tmp / STAT, json.dumps(stats))
    for _ in range(3):
        try:
            atomic.install(tmp, final)
            return final / PACKAGE
        except OSError:
            if _intact(final):
                return final / PACKAGE
            _discard(final)
    raise ValidationError(f"Cannot place the model's files at {final}: it keeps changing.")


def _write(backend: Backend, tree: Tree, root: Path) -> None:
    root.mkdir()
    for entry in tree.entries:
        rel = paths.check_relative(entry.path, "package file", strict=False)
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        backend.get_file(entry.hash, target)  # verified against the hash: tampering raises


def _intact(final: Path) -> bool:
    try:
        stats = json.loads((final / STAT).read_text(encoding="utf-8"))
        return all(_stat(final / PACKAGE / rel) == list(v) for rel, v in stats.items())
    except (OSError, ValueError, TypeError, AttributeError):
        return False


def _stat(path: Path) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


def _discard(folder: Path) -> None:
    if not folder.exists():
        return
    aside = Path(atomic.temp_path(folder.parent))
    try:
        atomic.install(folder, aside)
    except OSError:
        return  # gone already, or another process moved it
    shutil.rmtree(aside, ignore_errors=True)


def _sweep(root: Path) -> None:
    """Remove temp folders killed processes left (only old ones: others may be in use)."""
    cutoff = time.time() - _STALE_TEMP
    for entry in os.scandir(root):
        if atomic.is_temp(entry.name) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
            shutil.rmtree(entry.path, ignore_errors=True)
