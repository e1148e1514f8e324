"""Artifacts: files a run logs, stored as objects so identical bytes are kept once.

A run's artifacts are rows ``(path, hash, size)``; together they form the run's
tree. Paths that come from a caller are checked before anything is written.

    >>> artifact_path("reports", "a.txt")
    'reports/a.txt'
"""

from __future__ import annotations

import os
from pathlib import Path

from loom import paths
from loom._types import StrPath
from loom.errors import NotFoundError, ValidationError
from loom.store.entities import Artifact
from loom.tracking.backend import Backend


def artifact_path(prefix: str | None, name: str) -> str:
    """``prefix/name``, checked by the one path rule (``loom.paths``); a trailing / is fine."""
    return paths.check_relative(paths.join(prefix, name), "artifact path")


def log_file(backend: Backend, run_id: str, local: StrPath, prefix: str | None) -> Artifact:
    path = Path(local)
    if not path.is_file():
        raise NotFoundError(
            f"Cannot log artifact {str(local)!r}: no such file.",
            hint="Use log_artifacts(dir) for a directory; check the path.",
            path=str(local),
        )
    [(oid, size)] = backend.put_files([path])
    art = Artifact(artifact_path(prefix, path.name), oid, size)
    backend.log_artifacts(run_id, [art])
    return art


def log_dir(backend: Backend, run_id: str, local: StrPath, prefix: str | None) -> list[Artifact]:
    root = Path(local)
    if not root.is_dir():
        raise NotFoundError(
            f"Cannot log artifacts from {str(local)!r}: not a directory.",
            hint="Use log_artifact(file) for a single file; check the path.",
            path=str(local),
        )
    files = sorted(p for p in root.rglob("*") if p.is_file())
    stored = backend.put_files(files) if files else []
    arts = [
        Artifact(artifact_path(prefix, f.relative_to(root).as_posix()), oid, size)
        for f, (oid, size) in zip(files, stored, strict=True)
    ]
    if arts:
        backend.log_artifacts(run_id, arts)
    return arts


def log_bytes(backend: Backend, run_id: str, data: bytes, path: str) -> Artifact:
    oid, size = backend.put_bytes(data)
    art = Artifact(paths.check_relative(path, "artifact path"), oid, size)
    backend.log_artifacts(run_id, [art])
    return art


def download(backend: Backend, run_id: str, path: str, dst: StrPath) -> Path:
    """Materialize the artifact ``path`` (a file or a folder; "" for all) under ``dst``.

    Everything is checked and fetched first (objects the cache lacks come from
    the workspace's default remote), then written; if a write still fails, the
    files and folders this call created are removed, so no partial folder stays.
    """
    path = paths.check_relative(path.rstrip("/"), "artifact path") if path else ""
    arts = backend.list_artifacts(run_id, prefix=path or None)
    arts = [a for a in arts if not path or a.path == path or a.path.startswith(path + "/")]
    if not arts:
        raise NotFoundError(
            f"Run {run_id} has no artifact {path!r}."
            if path
            else f"Run {run_id} has no artifacts.",
            hint=f"List them with `loom runs artifacts {run_id}`.",
            run_id=run_id,
            path=path,
        )
    root = Path(dst).resolve()
    targets = []
    for art in arts:
        target = (root / paths.check_relative(art.path, "artifact path")).resolve()
        if os.path.commonpath([root, target]) != str(root):
            raise ValidationError(f"Artifact path {art.path!r} leaves {root}.", path=art.path)
        targets.append((art.hash, target))
    backend.fetch_missing(run_id, list(dict.fromkeys(a.hash for a in arts)))
    _write_all(backend, targets)
    return root / path if path else root


def _write_all(backend: Backend, targets: list[tuple[str, Path]]) -> None:
    made: list[Path] = []  # folders this call created, outermost first
    written: list[Path] = []
    try:
        for oid, target in targets:
            _make_folders(target.parent, made)
            existed = target.exists()
            backend.get_file(oid, target)
            if not existed:
                written.append(target)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass  # not empty: something else wrote there meanwhile
        raise


def _make_folders(folder: Path, made: list[Path]) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for p in reversed(missing):
        p.mkdir(exist_ok=True)
        made.append(p)
