"""Artifacts: files a run logs, stored as objects so identical bytes are kept once.

A run's artifacts are rows ``(path, hash, size)``; together they form the run's
tree. Paths that come from a caller are checked before anything is written.

``log_artifact`` and ``log_artifacts`` also record the run's *output*
(:class:`RunOutput`): the file's hash, or the hash of the folder's tree built by
the rules of ``loom add`` (the same walk: links to files followed, temp files
skipped, exec bits kept). So a folder a run logs and a later run reads with
``log_input`` — tracked or not — have the same hash, and lineage joins them.

    >>> artifact_path("reports", "a.txt")
    'reports/a.txt'
"""

from __future__ import annotations

import os
from pathlib import Path

from loom import paths
from loom._types import StrPath
from loom.data.walk import walk_files
from loom.errors import NotFoundError, ValidationError, warn
from loom.objects.tree import Tree, TreeEntry
from loom.store.entities import Artifact, RunOutput
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
    backend.log_outputs(run_id, [RunOutput(art.path, oid, size, "file")])
    return art


def log_dir(backend: Backend, run_id: str, local: StrPath, prefix: str | None) -> list[Artifact]:
    return log_folder(backend, run_id, local, prefix)[0]


def log_folder(
    backend: Backend,
    run_id: str,
    local: StrPath,
    prefix: str | None,
    *,
    output: bool = True,
) -> tuple[list[Artifact], Tree | None]:
    """Log a folder's files as artifacts and (``output``) the folder as the run's output;
    returns the artifacts and, with ``output``, the folder's tree.

    ``log_model`` logs a package with ``output=False`` and records it as a model output
    itself (its tree, like every registry tree, is built from the artifacts)."""
    root = Path(local)
    if not root.is_dir():
        raise NotFoundError(
            f"Cannot log artifacts from {str(local)!r}: not a directory.",
            hint="Use log_artifact(file) for a single file; check the path.",
            path=str(local),
        )
    broken: dict[str, str] = {}
    stats = walk_files(root, broken=broken)  # the walk of `loom add`, so the tree hash agrees
    for rel, why in sorted(broken.items()):
        warn(
            f"{root / rel} is {why}: not logged.",
            hint="Loom logs files and links to files.",
            stacklevel=4,
        )
    rels = sorted(stats)
    stored = backend.put_files([root / r for r in rels]) if rels else []
    arts = [
        Artifact(artifact_path(prefix, rel), oid, size)
        for rel, (oid, size) in zip(rels, stored, strict=True)
    ]
    if not arts or not output:  # an empty folder has no content to link by: no output
        if arts:
            backend.log_artifacts(run_id, arts)
        return arts, None
    backend.log_artifacts(run_id, arts)
    entries = [
        TreeEntry(rel, oid, size, stats[rel].exec)
        for rel, (oid, size) in zip(rels, stored, strict=True)
    ]
    tree = Tree.from_entries(entries)
    backend.put_bytes(tree.to_bytes())  # the listing, stored as `loom add` stores it
    name = artifact_path(None, prefix.rstrip("/")) if prefix else root.resolve().name or "."
    backend.log_outputs(run_id, [RunOutput(name, tree.oid, tree.size, "directory")])
    return arts, tree


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
