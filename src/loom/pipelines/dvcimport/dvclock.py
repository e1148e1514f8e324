"""``dvc.lock`` -> ``loom.lock`` entries, so ``loom repro`` reruns nothing DVC considered done.

A stage's entry is written when every dep and out DVC locked can be matched to
bytes with the md5 DVC recorded (in the workspace, else in DVC's cache): the
entry then holds Loom's hashes of those same bytes, the params as DVC recorded
them and DVC's resolved cmd. Whatever changed since DVC ran the stage (a param,
the cmd in dvc.yaml, a dep's content) then differs from the entry, and
``loom repro`` reruns the stage, as ``dvc repro`` would. A stage whose recorded
bytes can't be found at all gets no entry (it will run). Paths in ``dvc.lock``
are relative to the stage's ``wdir`` (which only ``dvc.yaml`` holds); in
``loom.lock`` they are relative to the root. Outs go into the Loom cache; one
missing from the workspace is put back from there (DVC's run cache would have
restored it the same way), and each locked stage gets a run cache entry, as if
``loom repro`` had run it.
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import replace
from typing import Any

from loom.data import gitignore
from loom.data.checkout import checkout_targets
from loom.data.pointer import Pointer
from loom.data.select import Target
from loom.pipelines import runcache
from loom.pipelines.dvcimport.project import out_hash
from loom.pipelines.dvcimport.report import Report
from loom.pipelines.dvcimport.sources import Found, Sources
from loom.pipelines.lock import Entry, StageLock
from loom.pipelines.runcache import RunCache
from loom.pipelines.spec import Stage


class _Unlocked(Exception):
    """The stage can't be locked; the message says why."""


def convert(
    lock: dict[str, Any], stages: dict[str, Stage], sources: Sources, report: Report
) -> dict[str, StageLock]:
    """Loom lock entries (name -> entry) for the stages of ``lock`` (parsed dvc.lock);
    ``stages`` are the converted loom.yaml's, as ``loom repro`` reads them."""
    entries: dict[str, StageLock] = {}
    for name, locked in (lock.get("stages") or {}).items():
        definition = stages.get(name)
        if definition is None:
            report.needs("stage", name, "in dvc.lock but no longer in dvc.yaml; left out")
            continue
        if not isinstance(locked, dict):
            report.needs("stage", name, "dvc.lock's entry is not a mapping; left out")
            continue
        try:
            entries[name] = _entry(name, locked, definition, sources, report)
        except _Unlocked as why:
            report.needs(
                "stage",
                name,
                f"not locked, so `loom repro` will run it: {why}",
                hint="Run `dvc pull` or `dvc repro` before the import if DVC had it up to date.",
            )
    return entries


def _entry(
    name: str, locked: dict, definition: Stage, sources: Sources, report: Report
) -> StageLock:
    wdir = definition.wdir
    cmd = _cmd(locked.get("cmd"))
    deps = tuple(_found(d, wdir, sources, store=False)[1] for d in locked.get("deps") or [])
    params = locked.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise _Unlocked("dvc.lock's params are not a mapping of files to values")
    params = {_rel(wdir, file): values for file, values in params.items()}
    uncached = {o.path for o in definition.outs if not o.cache}
    outs, cached = [], []
    for o in locked.get("outs") or []:
        path = o.get("path") if isinstance(o, dict) else None
        cache = not isinstance(path, str) or _rel(wdir, path) not in uncached
        # stored even when git keeps it (cache: false): the run cache entry restores it
        found, entry = _found(o, wdir, sources, store=True)
        if cache:
            cached.append(found)
        else:
            entry = replace(entry, cache=False)
        outs.append(entry)
    _place(sources, cached, name, report)
    _remember(sources, definition, deps, params, outs)
    report.done("stage", name, "locked: `loom repro` skips it while nothing changes")
    return StageLock(cmd, wdir, deps, params, tuple(outs))


def _remember(
    sources: Sources, stage: Stage, deps: tuple[Entry, ...], params: dict, outs: list[Entry]
) -> None:
    """A run cache entry for DVC's run, as ``loom repro`` records its own: switching a
    param back to the value DVC ran with then restores these outs instead of running.
    Not for stages with ``persist`` outs (their outs are not a function of the inputs)."""
    if any(o.persist for o in stage.outs) or stage.always_changed:
        return
    if {o.path for o in outs} != {o.path for o in stage.outs}:
        return  # dvc.lock and dvc.yaml disagree: the stage will run anyway
    RunCache(sources.ws, fetch=False).save(runcache.key(stage, deps, params), outs)


def _cmd(cmd: Any) -> str:
    """The command as loom.yaml's spec gives it: a list joined with ``&&``."""
    if isinstance(cmd, list) and cmd and all(isinstance(c, str) for c in cmd):
        return " && ".join(cmd)
    if isinstance(cmd, str) and cmd.strip():
        return cmd
    raise _Unlocked("dvc.lock records no cmd")


def _found(locked: Any, wdir: str, sources: Sources, *, store: bool) -> tuple[Found, Entry]:
    if not isinstance(locked, dict) or not isinstance(locked.get("path"), str):
        raise _Unlocked(f"dvc.lock holds an entry without a path ({locked!r})")
    rel = _rel(wdir, locked["path"])
    want = out_hash(locked)
    if want is None:
        raise _Unlocked(f"dvc.lock records no md5 for {rel}")
    found = sources.find(rel, want, store=store)
    if isinstance(found, str):
        raise _Unlocked(found)
    return found, Entry(rel, found.oid, found.size, found.kind, found.files)


def _rel(wdir: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(wdir, path))


def _place(sources: Sources, found: list[Found], stage: str, report: Report) -> None:
    """Cached outs: ignored by git (as ``loom repro`` does), and put in the workspace if
    they are missing there (one that differs is left as it is: the stage will rerun)."""
    ws = sources.ws
    targets = []
    for f in found:
        full = ws.path_of(f.rel)
        if gitignore.ensure_ignored(full.parent, full.name):
            report.wrote(posixpath.join(posixpath.dirname(f.rel), ".gitignore"))
        if not full.exists() and not full.is_symlink():
            ptr = Pointer(f.rel, f.oid, f.size, f.kind, f.files)  # type: ignore[arg-type]
            targets.append(Target(ptr))
    if not targets:
        return
    _, problems = checkout_targets(ws, targets)
    failed = {path: exc for path, exc in problems.items}
    for t in targets:
        exc = failed.get(t.ptr.rel)
        if exc is not None:
            report.needs("stage", stage, f"{t.ptr.rel} could not be put back: {exc.message}",
                         hint=f"Run `loom repro {shlex.quote(stage)}`.")  # fmt: skip
        else:
            report.done("stage", stage, f"{t.ptr.rel} was missing: put back from DVC's cache")
