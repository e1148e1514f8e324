"""``log_input``: the data version a run consumed — path, content hash, size, kind, git revision.

The hash is the one ``loom.data`` records for a tracked path (its pointer file)
or, for an untracked path, the content hash computed in place (nothing stored).

A tracked path whose content differs from its pointer (edited, not yet
``loom add``-ed) is what the run really read: that content is stored in the
workspace cache, as ``loom add`` would store it but without touching the
pointer, the input is marked ``modified``, and a warning says how to make the
run reproducible. Otherwise the recorded hash would name bytes that exist
nowhere, next to a ``git.dirty=false`` that the pointer file can't contradict.

    >>> data_version("data/train")  # doctest: +SKIP
    RunInput(path='data/train', hash='9f…', size=1234, kind='directory', git_rev='ab12…')
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from loom._types import StrPath
from loom.data import pointer as ptrs
from loom.data.add import store_content
from loom.data.api import DataVersion, info
from loom.data.state import StateIndex
from loom.data.workspace import Workspace
from loom.errors import warn
from loom.store.entities import RunInput
from loom.tracking import artifact_refs


def git_head() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", "HEAD"], capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.decode().strip() or None if out.returncode == 0 else None


def data_version(path: StrPath, name: str | None = None, run_id: str | None = None) -> RunInput:
    """The input record of ``path``; modified content is stored and, with ``run_id``,
    referenced by that run in the cache (``refs/runs``), so ``loom gc`` keeps it."""
    v = info(path)  # a stat per file when nothing changed (the state index knows the rest)
    oid, size, modified = v.hash, v.size, False
    if v.tracked:
        oid, size, modified = _against_pointer(Path(os.path.abspath(path)), v, run_id)
    # loom.data says "dir" where the store's RunInput says "directory".
    kind = "directory" if v.kind in ("dir", "directory") else "file"
    return RunInput(
        path=str(v.path),
        hash=oid,
        size=size,
        kind=kind,
        git_rev=git_head(),
        name=name,
        modified=modified,
    )


def _against_pointer(full: Path, v: DataVersion, run_id: str | None) -> tuple[str, int, bool]:
    """(hash, size, modified): the pointer's when the content matches it, else the
    content's, stored in the cache first."""
    ws = Workspace.find(full.parent)
    ptr = ptrs.load(ws.root, v.path + ptrs.SUFFIX)
    if ptr.hash == v.hash:
        return v.hash, v.size, False
    state = StateIndex(ws.loom_dir / "state.db")
    try:
        # the state index knows every file `info` just hashed: this reads only the
        # files the cache lacks, to store them
        snap = store_content(ws, v.path, state)
        state.save()
    finally:
        state.close()
    if run_id is not None:  # before the input row, as for artifacts
        tree = snap.tree
        artifact_refs.record(
            ws.odb, run_id, [snap.oid, *(e.hash for e in tree.entries)] if tree else [snap.oid]
        )
    quoted = shlex.quote(v.path)
    warn(
        f"{v.path} differs from its pointer {v.path}{ptrs.SUFFIX}: the run used content "
        f"that is not committed (stored in the cache as {snap.oid[:12]}, input marked modified).",
        hint=f"Run `loom add {quoted}` and commit {v.path}{ptrs.SUFFIX} "
        "to make the run reproducible.",
        stacklevel=4,
    )
    return snap.oid, snap.size, True
