"""Reading tracked data from Python, at any git revision, without checking it out.

    >>> import loom
    >>> loom.data.read("data/raw/a.csv", rev="HEAD~1", mode="r")
    'id,label\\n1,cat\\n'
    >>> loom.data.info("data/raw").hash        # the data version tracking records

``path`` may be a tracked file, or a file inside a tracked folder. Objects
come from the cache or, when missing there, from the remote, and are
verified before they are handed out.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from loom._types import Oid, StrPath
from loom.data import pointer as ptrs
from loom.data.pointer import Pointer
from loom.data.remotes import open_configured
from loom.data.scan import scan
from loom.data.select import cover, read_pointer
from loom.data.state import StateIndex
from loom.data.trees import load_tree
from loom.data.workspace import Workspace
from loom.errors import (
    MissingObjectError,
    NoRemoteError,
    NotAWorkspaceError,
    NotFoundError,
    UsageError,
)
from loom.objects import transfer
from loom.objects.tree import Tree


@dataclass(frozen=True)
class DataVersion:
    """What a path holds: ``hash`` is the BLAKE3 of a file or of a folder's tree."""

    path: str
    hash: Oid
    size: int
    kind: str
    files: int | None = None
    tracked: bool = False


def open(
    path: StrPath,
    rev: str | None = None,
    repo: StrPath | None = None,
    remote: str | None = None,
) -> BinaryIO:
    """A binary file object over ``path`` as tracked at ``rev`` (default: the pointer in the
    workspace). ``repo`` is the workspace folder (default: found from the cwd)."""
    ws = Workspace.find(repo) if repo else Workspace.find()
    rel = _rel(ws, path, repo)
    ptr, inner = _find_pointer(ws, rel, rev)
    oid = _object_for(ws, ptr, inner, remote, rel, rev)
    _ensure(ws, [oid], remote)
    ws.odb.verify(oid)
    return ws.odb.open(oid)


def read(
    path: StrPath,
    rev: str | None = None,
    repo: StrPath | None = None,
    remote: str | None = None,
    mode: str = "rb",
    encoding: str = "utf-8",
) -> bytes | str:
    """The whole content of ``path`` at ``rev``: bytes (``mode="rb"``) or text (``"r"``)."""
    if mode not in ("rb", "r"):
        raise UsageError(f"mode must be 'rb' or 'r', not {mode!r}.", hint="Use mode='r' for text.")
    with open(path, rev=rev, repo=repo, remote=remote) as f:
        data = f.read()
    return data.decode(encoding) if mode == "r" else data


def info(
    path: StrPath,
    *,
    rev: str | None = None,
    repo: StrPath | None = None,
    remote: str | None = None,
    jobs: int | None = None,
) -> DataVersion:
    """The data version of ``path`` now: the pointer's hash when the workspace matches it,
    else the content hash (computed through the state index, nothing stored).

    With ``rev``, the version tracked at that git revision, as ``read`` finds it: the
    pointer's hash, or for a path inside a tracked folder, its entry in the folder's
    listing (a sub-folder's hash is the tree of its entries, as ``loom add`` would
    compute it). Nothing is read from the workspace's files.
    """
    if rev is not None:
        return _info_at(path, rev, repo, remote)
    full = Path(os.path.abspath(path))
    try:
        ws: Workspace | None = Workspace.find(full.parent)
    except NotAWorkspaceError:
        ws = None
    state = StateIndex(ws.loom_dir / "state.db" if ws else Path(":memory:"))
    try:
        snap = scan(full, state, jobs=jobs)
        state.save()
    finally:
        state.close()
    shown = ws.rel(full) if ws else str(path)
    pointer_file = ws.root / (shown + ptrs.SUFFIX) if ws else None
    tracked = pointer_file is not None and pointer_file.is_file()
    if snap is None and tracked:  # tracked but not checked out: the pointer says what it is
        ptr = ptrs.load(ws.root, shown + ptrs.SUFFIX)  # type: ignore[union-attr]
        return DataVersion(shown, ptr.hash, ptr.size, ptr.kind, ptr.files, True)
    if snap is None:
        raise NotFoundError(
            f"{path} does not exist.", hint="Check the path, or `loom pull` it.", path=str(path)
        )
    return DataVersion(shown, snap.oid, snap.size, snap.kind, snap.files, tracked)


def _info_at(path: StrPath, rev: str, repo: StrPath | None, remote: str | None) -> DataVersion:
    ws = Workspace.find(repo) if repo else Workspace.find()
    rel = _rel(ws, path, repo)
    ptr, inner = _find_pointer(ws, rel, rev)
    if not inner:
        return DataVersion(rel, ptr.hash, ptr.size, ptr.kind, ptr.files, True)
    if ptr.kind == "file":
        raise NotFoundError(f"{ptr.rel} is a file, so {rel} can't be inside it.", path=rel)
    _ensure(ws, [ptr.hash], remote)
    entries = load_tree(ws.odb, ptr.hash, ptr.pointer_rel).entries
    found = next((e for e in entries if e.path == inner), None)
    if found is not None:
        return DataVersion(rel, found.hash, found.size, "file", None, True)
    prefix = inner + "/"
    below = [replace(e, path=e.path[len(prefix) :]) for e in entries if e.path.startswith(prefix)]
    if not below:
        raise NotFoundError(
            f"{rel} is not in the tracked folder {ptr.rel} at {rev}.",
            hint=f"List its files with `loom status {ptr.rel}` or at another revision.",
            path=rel,
        )
    sub = Tree.from_entries(below)
    return DataVersion(rel, sub.oid, sub.size, "dir", len(below), True)


def _rel(ws: Workspace, path: StrPath, repo: StrPath | None) -> str:
    p = Path(path)
    if repo and not p.is_absolute():
        p = ws.root / p
    return ws.rel(p)


def _find_pointer(ws: Workspace, rel: str, rev: str | None) -> tuple[Pointer, str]:
    """The pointer covering ``rel`` (itself or a folder above it) and the path inside it."""
    found = cover(rel, lambda pointer_rel: _pointer_text(ws, pointer_rel, rev))
    if found is not None:
        return found
    at = f" at {rev}" if rev else ""
    raise NotFoundError(
        f"{rel} is not tracked{at}: no pointer file for it or a folder above it.",
        hint="Run `loom status` (or `git log -- '*.loom'`) to see what is tracked.",
        path=rel,
        rev=rev,
    )


def _pointer_text(ws: Workspace, pointer_rel: str, rev: str | None) -> bytes | None:
    if rev is None:
        return read_pointer(ws, pointer_rel)
    proc = subprocess.run(
        ["git", "cat-file", "blob", f"{rev}:./{pointer_rel}"],
        cwd=ws.root,
        capture_output=True,
    )
    if proc.returncode == 0:
        return proc.stdout
    check = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        cwd=ws.root,
        capture_output=True,
    )
    if check.returncode != 0:
        raise NotFoundError(
            f"{rev!r} is not a git revision in {ws.root}.",
            hint="Use a commit, branch or tag: `git log --oneline` lists them.",
            rev=rev,
        )
    return None


def _object_for(ws, ptr: Pointer, inner: str, remote, rel: str, rev) -> Oid:
    if ptr.kind == "file":
        if inner:
            raise NotFoundError(f"{ptr.rel} is a file, so {rel} can't be inside it.", path=rel)
        return ptr.hash
    if not inner:
        raise UsageError(
            f"{rel} is a tracked folder; open a file inside it.",
            hint=f"e.g. loom.data.read('{rel}/<file>')",
            path=rel,
        )
    _ensure(ws, [ptr.hash], remote)
    entry = load_tree(ws.odb, ptr.hash, ptr.pointer_rel).as_dict().get(inner)
    if entry is None:
        at = f" at {rev}" if rev else ""
        raise NotFoundError(
            f"{rel} is not in the tracked folder {ptr.rel}{at}.",
            hint=f"List its files with `loom status {ptr.rel}` or at another revision.",
            path=rel,
        )
    return entry.hash


def _ensure(ws: Workspace, oids: list[Oid], remote: str | None) -> None:
    """Fetch what the cache lacks from the remote (verified by the transfer)."""
    missing = ws.odb.missing(oids)
    if not missing:
        return
    try:
        target = open_configured(ws, remote)
    except NoRemoteError:
        raise MissingObjectError(
            f"{len(missing)} object(s) are neither in the cache nor on a remote: "
            f"{', '.join(sorted(missing)[:3])}.",
            hint="Run `loom remote add -d storage s3://bucket/path` where the data was pushed.",
            oids=sorted(missing),
        ) from None
    transfer.pull(ws.odb, target, sorted(missing))
