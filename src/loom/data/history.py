"""Pointers in git history: what ``gc --all-commits`` keeps and ``push --all-*`` sends.

``which`` says which commits count, with DVC's meanings:

- ``"commits"``: every commit reachable from any ref (branches, tags, stash);
- ``"tags"``: every tagged commit;
- ``"branches"``: the tip of every local branch.

    >>> {p.hash for p in commit_pointers(ws, "tags")}

Paths are workspace-relative, also when the workspace is a subfolder of the
git repository. A garbled pointer in old history names nothing and is skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Literal

from loom.data import git
from loom.data import pointer as ptrs
from loom.data.pointer import Pointer
from loom.data.workspace import Workspace
from loom.errors import PointerError, UsageError, WorkspaceError

Which = Literal["commits", "tags", "branches"]
_REFS = {"tags": "refs/tags", "branches": "refs/heads"}


def commit_pointers(ws: Workspace, which: Which = "commits") -> list[Pointer]:
    """Pointers in the commits ``which`` names (see the module docstring)."""
    prefix = _git(ws, "rev-parse", "--show-prefix").decode().strip()
    if which == "commits":
        blobs = _logged_blobs(ws, prefix)
    elif which in _REFS:
        blobs = {}
        for commit in _ref_commits(ws, _REFS[which]):
            for blob, path in _tree_blobs(ws, commit, prefix):
                blobs.setdefault(blob, path)
    else:
        raise ValueError(f"which must be commits, tags or branches, not {which!r}")
    return _read_blobs(ws, blobs)


def _git(ws: Workspace, *args: str, data: bytes | None = None) -> bytes:
    try:
        return git.output(ws.root, *args, data=data, hint=_HINT)
    except UsageError as exc:  # no git at all: the same advice
        raise WorkspaceError(exc.message, hint=_HINT) from None


_HINT = (
    "--all-commits, --all-tags and --all-branches read git history: run them "
    "in a git repository, or use `loom gc --workspace` / a plain `loom push`."
)


def _logged_blobs(ws: Workspace, prefix: str) -> dict[bytes, str]:
    """Every blob ever written at a ``*.loom`` path, from one ``git log --all -m --raw``
    (merges diffed against each parent, root commits as additions)."""
    cmd = ["log", "--all", "-m", "--raw", "--no-abbrev", "--no-renames", "--format=", "-z", "--"]
    out = _git(ws, *cmd, f":(top,glob){prefix}**/*{ptrs.SUFFIX}")
    blobs: dict[bytes, str] = {}  # blob id -> a workspace path it appeared under
    for meta, raw in itertools.pairwise(out.split(b"\0")):
        parts = meta.strip().split()  # :old_mode new_mode old_sha new_sha status, then path
        if len(parts) != 5 or not parts[0].startswith(b":") or set(parts[3]) == {ord("0")}:
            continue  # not a record, or a deletion (which names no new blob)
        path = raw.decode("utf-8", "surrogateescape")
        blobs.setdefault(parts[3], path[len(prefix) :])
    return blobs


def _ref_commits(ws: Workspace, refs: str) -> list[str]:
    """The commits the refs under ``refs`` point at (annotated tags peeled)."""
    out = _git(ws, "for-each-ref", "--format=%(objectname) %(*objectname)", refs).decode()
    commits = []
    for line in out.splitlines():
        direct, _, peeled = line.partition(" ")
        commits.append(peeled or direct)
    return list(dict.fromkeys(commits))


def _tree_blobs(ws: Workspace, commit: str, prefix: str) -> Iterable[tuple[bytes, str]]:
    """``(blob id, workspace path)`` of every pointer file in ``commit``'s tree (one ls-tree)."""
    proc = git.run(ws.root, "ls-tree", "-r", "-z", "--full-tree", commit)
    if proc.returncode != 0:
        return  # a tag on a tree or blob: no commit, no pointers
    for record in proc.stdout.split(b"\0"):
        meta, _, raw = record.partition(b"\t")
        parts = meta.split()  # mode type sha
        if len(parts) != 3 or parts[1] != b"blob":
            continue
        path = raw.decode("utf-8", "surrogateescape")
        if path.endswith(ptrs.SUFFIX) and path.startswith(prefix):
            yield parts[2], path[len(prefix) :]


def _read_blobs(ws: Workspace, blobs: dict[bytes, str]) -> list[Pointer]:
    """Parse pointer blobs with one ``git cat-file --batch``."""
    if not blobs:
        return []
    out = _git(ws, "cat-file", "--batch", data=b"".join(b + b"\n" for b in blobs))
    pointers: list[Pointer] = []
    pos = 0
    for rel in blobs.values():
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        body = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
        try:
            pointers.append(ptrs.parse(body, rel))
        except PointerError:
            continue  # a garbled pointer in old history names nothing to keep
    return pointers
