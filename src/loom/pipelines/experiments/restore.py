"""A run's data versions, and its params, put back into a worktree of its commit.

Each version (path and hash) that the worktree does not hold already is placed
from the cache, what the cache lacks fetched first from the main workspace's
default remote (``loom.data.sync.fetch_versions``: one error names each path
and object in neither place). A file git tracks whose content the run read is
in neither (code changed after the commit, not committed) is said as a warning:
the commit's version is used.

    >>> restore_versions(main, wt.ws, run_versions)                 # doctest: +SKIP
    >>> set_params(wt.ws.root, run.params)                          # doctest: +SKIP
    ['batch_size']
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from loom.data import git
from loom.data.checkout import checkout_targets
from loom.data.lock import workspace_lock
from loom.data.pointer import Pointer
from loom.data.select import Target
from loom.data.sync import fetch_versions, lacks
from loom.data.trees import load_tree
from loom.data.workspace import Workspace
from loom.errors import LoomError, warn
from loom.pipelines import overrides
from loom.pipelines.lock import Entry
from loom.pipelines.params import MISSING, ParamFiles, find
from loom.pipelines.record import params_text
from loom.pipelines.spec import DEFAULT_PARAMS, disk_reader, load
from loom.pipelines.versions import Versions


def restore_versions(main: Workspace, wt: Workspace, versions: Sequence[Entry]) -> int:
    """Make ``wt`` hold ``versions``; returns how many had to be placed."""
    with Versions(wt) as now:
        differ = [e for e in versions if not e.same(now.get(e.path))]
    if not differ:
        return 0
    in_git = _tracked(wt, [e.path for e in differ])
    place = []
    for e in differ:
        if e.path in in_git and lacks(main, _pointer(e)):
            warn(
                f"{e.path} at this commit is not what the run read, and what it read is not "
                "in the cache (a change that was never committed?); using the commit's.",
                hint="Reproduce a run made from committed code, e.g. an experiment "
                "(`loom exp run` records the uncommitted changes too).",
            )
        else:
            place.append(e)
    fetch_versions(main, [_pointer(e) for e in place])
    targets = [Target(_pointer(e, wt)) for e in place]
    with workspace_lock(wt):
        _, problems = checkout_targets(wt, targets, force=True)
    problems.raise_if_any("restored")
    return len(place)


def _pointer(e: Entry, ws: Workspace | None = None) -> Pointer:
    """``e`` as a pointer; with ``ws``, a folder's file count from its listing (checkout
    checks it)."""
    files = e.files
    if e.kind == "dir" and files is None and ws is not None:
        files = len(load_tree(ws.odb, e.hash, e.path).entries)
    return Pointer(e.path, e.hash, e.size, "dir" if e.kind == "dir" else "file", files)


def _tracked(ws: Workspace, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` git tracks in ``ws`` (a folder: any file under it)."""
    proc = git.run(ws.root, "ls-files", "-z", "--", *(f":(literal){p}" for p in paths))
    found = [os.fsdecode(p) for p in proc.stdout.split(b"\0") if p]
    return {p for p in paths if any(f == p or f.startswith(p + "/") for f in found)}


def set_params(root: Path, params: Mapping[str, str]) -> list[str]:
    """Set each of a run's params (dotted key -> value as text) in the params file of
    ``root``'s pipeline that holds it, where its value differs; returns the keys that no
    params file holds (a script's own ``log_param``, say)."""
    files = _params_files(root)
    docs = ParamFiles(disk_reader(root))
    changes, unplaced = [], []
    for key, text in params.items():
        file = next((f for f in files if _has(docs, f, key)), None)
        if file is None:
            unplaced.append(key)
            continue
        current = find(docs.doc(file), key)
        if params_text({file: {key: current}}).get(key) != text:
            changes.append(overrides.Override(file, key, overrides.scalar(text), text))
    if changes:
        overrides.apply(root, changes)
    return unplaced


def _params_files(root: Path) -> list[str]:
    pipeline = load(root)
    declared = [p.file for s in pipeline.stages.values() for p in s.params]
    return list(dict.fromkeys([DEFAULT_PARAMS, *declared]))


def _has(docs: ParamFiles, file: str, key: str) -> bool:
    try:
        return find(docs.doc(file), key) is not MISSING
    except LoomError:  # the file does not exist at this commit
        return False
