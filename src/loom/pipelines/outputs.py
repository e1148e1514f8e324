"""A stage's outs: cleared before it runs, stored as objects after, placed back on restore.

- Before a run, outs are removed (a stage writes them afresh; a link into the
  cache must never be written through), except ``persist: true`` ones, which
  are turned back into plain files the command may edit.
- After a run, every out is stored in the workspace cache as ``loom add``
  stores it (``store_content``: packed when small, the state index spares
  unchanged files); cached outs get their ``/name`` line in the folder's
  ``.gitignore``; with ``cache.type`` hardlink or symlink they are placed back
  as links (``loom.data.checkout``). Outs with ``cache: false`` (metrics, plots)
  stay in git as they are; their object still serves the run cache.
- Restore places outs back from objects with ``loom.data.checkout``'s machinery
  and ``cache.type``, overwriting what is there.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path

from loom import atomic
from loom.data import gitignore
from loom.data.add import store_content
from loom.data.checkout import checkout_targets
from loom.data.lock import workspace_lock
from loom.data.pointer import Pointer
from loom.data.select import Target
from loom.data.workspace import POINTER_SUFFIX, Workspace
from loom.errors import from_oserror
from loom.paths import is_inside
from loom.pipelines.errors import PipelineError
from loom.pipelines.lock import Entry
from loom.pipelines.spec import Stage
from loom.pipelines.versions import Versions

_LINK_MODES = ("hardlink", "symlink")


def check_ours(ws: Workspace, stages: Sequence[Stage]) -> None:
    """Refuse, before anything runs, a cached out that ``loom add`` or git already tracks:
    the stage would delete it, and Loom would then keep it twice (one ``git ls-files``)."""
    owner = {o.path: s.name for s in stages for o in s.outs}
    outs = [o for s in stages for o in s.outs if o.cache]
    for out in outs:
        if (ws.root / (out.path + POINTER_SUFFIX)).is_file():
            raise PipelineError(
                out.where,
                f"stage {owner[out.path]!r}: the out {out.path} is tracked with `loom add` "
                f"({out.path}{POINTER_SUFFIX}).",
                hint=f"A stage's outs are tracked by loom.lock: remove {out.path}"
                f"{POINTER_SUFFIX} (`git rm`), or make it a dep instead.",
                path=out.path,
            )
    if not outs or not ws.has_git:
        return
    proc = subprocess.run(
        ["git", "ls-files", "-z", "--", *(f":(literal){o.path}" for o in outs)],
        cwd=ws.root,
        capture_output=True,
    )
    tracked = [os.fsdecode(p) for p in proc.stdout.split(b"\0") if p]
    for out in outs:
        inside = [t for t in tracked if is_inside(out.path, t)]
        if inside:
            raise PipelineError(
                out.where,
                f"stage {owner[out.path]!r}: the out {out.path} is tracked by git ({inside[0]}).",
                hint=f"Run `git rm -r --cached {out.path}` (Loom stores outs in its cache), "
                "or say `cache: false` to keep it in git.",
                path=out.path,
            )


def clear(ws: Workspace, stage: Stage) -> None:
    """Make room for ``stage``'s outs before it runs (see the module doc)."""
    for out in stage.outs:
        path = ws.path_of(out.path)
        try:
            if out.persist:
                _unlink_from_cache(path)
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif os.path.lexists(path):
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)  # the cmd may expect it
        except OSError as exc:
            raise from_oserror(exc, f"clear the out {out.path} of stage {stage.name}") from None


def _unlink_from_cache(path: Path) -> None:
    """Symlinks and hard links (into the read-only cache) become plain writable copies."""
    files = [path] if not path.is_dir() or path.is_symlink() else list(_files(path))
    for f in files:
        try:
            st = os.lstat(f)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode) or (stat.S_ISREG(st.st_mode) and st.st_nlink > 1):
            tmp = atomic.temp_path(f.parent)
            shutil.copyfile(f, tmp)
            os.chmod(tmp, 0o644 | (os.stat(f).st_mode & 0o111))
            atomic.install(tmp, f)


def _files(top: Path):
    for folder, _, names in os.walk(top):
        for name in names:
            yield Path(folder) / name


def store(ws: Workspace, stage: Stage, versions: Versions) -> list[Entry]:
    """Store ``stage``'s outs after it succeeded; their versions, as the lock records them.

    PipelineError when the stage did not write one of its outs.
    """
    missing = [o for o in stage.outs if not os.path.lexists(ws.path_of(o.path))]
    if missing:
        raise PipelineError(
            missing[0].where,
            f"stage {stage.name!r} finished but did not write its out {missing[0].path}.",
            hint="Fix the stage's cmd, or the path under outs/metrics/plots in loom.yaml.",
            path=missing[0].path,
        )
    entries = []
    with workspace_lock(ws):
        versions.forget([o.path for o in stage.outs])
        for out in stage.outs:
            snap = store_content(ws, out.path, versions.state)
            found = versions.put(out.path, snap)
            assert found is not None
            entries.append(
                Entry(found.path, found.hash, found.size, found.kind, found.files, out.cache)
            )
            if out.cache:
                full = ws.path_of(out.path)
                gitignore.ensure_ignored(full.parent, full.name)
        versions.save()
        cached = [e for e in entries if e.cache]
        if cached and _link_mode(ws):
            _relink(ws, cached, versions)
    return entries


def _link_mode(ws: Workspace) -> bool:
    modes = [m.strip() for m in str(ws.setting("cache.type")).split(",") if m.strip()]
    return bool(modes) and modes[0] in _LINK_MODES


def _relink(ws: Workspace, entries: Sequence[Entry], versions: Versions) -> None:
    """Put cached outs back as links into the cache, as ``cache.type`` asks."""
    for e in entries:
        path = ws.path_of(e.path)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    place(ws, entries, versions)


def restore(ws: Workspace, stage: Stage, entries: Sequence[Entry], versions: Versions) -> None:
    """Put ``entries`` (from the run cache or the lock) in place of ``stage``'s outs."""
    with workspace_lock(ws):
        place(ws, entries, versions)
        for e in entries:
            if e.cache:
                full = ws.path_of(e.path)
                gitignore.ensure_ignored(full.parent, full.name)


def place(ws: Workspace, entries: Sequence[Entry], versions: Versions) -> None:
    targets = [
        Target(Pointer(e.path, e.hash, e.size, "dir" if e.kind == "dir" else "file", e.files))
        for e in entries
    ]
    versions.save()  # checkout opens the state index itself
    _, problems = checkout_targets(ws, targets, force=True)
    versions.forget([e.path for e in entries])
    problems.raise_if_any("restored")
