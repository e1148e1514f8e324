"""``.dvc`` files -> Loom pointer files (``<path>.loom``), their data in the Loom cache.

A ``.dvc`` file's ``path`` is relative to the ``.dvc`` file's folder (and its
``wdir``, if any). The pointer records Loom's hash of bytes whose md5 is the
one DVC recorded: the workspace's when they match, else DVC's cached copy (the
workspace is then left as it is: ``loom status`` shows the difference, as
``dvc status`` did). The ``.gitignore`` line is the one ``loom add`` writes.
"""

from __future__ import annotations

import os
import posixpath
import shlex
from typing import Any

from loom.data import gitignore
from loom.data import pointer as ptrs
from loom.data.add import validate
from loom.data.ledger import Ledger
from loom.data.pointer import Pointer
from loom.errors import UsageError
from loom.pipelines.dvcimport.project import DvcProject, out_hash
from loom.pipelines.dvcimport.report import Report
from loom.pipelines.dvcimport.sources import Found, Sources


def convert(project: DvcProject, sources: Sources, report: Report, *, force: bool) -> None:
    """Write a pointer for each out of each ``.dvc`` file that matching bytes were found for."""
    ws = sources.ws
    saved: list[Pointer] = []
    for dvcfile in project.dvc_files():
        doc = project.read_yaml(dvcfile)
        if not isinstance(doc, dict):
            report.needs("data", dvcfile, "not a .dvc file (no mapping inside); skipped")
            continue
        if doc.get("deps"):
            report.needs(
                "data",
                dvcfile,
                "made by `dvc import`/`import-url`: the data is converted, where it came "
                "from is not (Loom does not track sources outside the repository)",
                hint="Update it by hand when the source changes, then `loom add` it.",
            )
        folder = posixpath.dirname(dvcfile)
        base = posixpath.normpath(posixpath.join(folder, str(doc.get("wdir") or ".")))
        for out in doc.get("outs") or []:
            ptr = _one(project, sources, report, dvcfile, base, out, force)
            if ptr is not None:
                saved.append(ptr)
    if saved:
        with Ledger.open(ws) as ledger:  # `loom status` warns until they are pushed
            ledger.add_versions((p.rel, p.hash) for p in saved)


def _one(
    project: DvcProject,
    sources: Sources,
    report: Report,
    dvcfile: str,
    base: str,
    out: Any,
    force: bool,
) -> Pointer | None:
    if not isinstance(out, dict) or not isinstance(out.get("path"), str):
        report.needs("data", dvcfile, f"an out without a path ({out!r}); skipped")
        return None
    rel = posixpath.normpath(posixpath.join(base, out["path"]))
    if rel.startswith("../") or rel == ".." or posixpath.isabs(rel):
        report.needs("data", rel, f"{dvcfile} tracks a path outside the project; skipped")
        return None
    if out.get("cache") is False:
        report.done("data", rel, f"{dvcfile}: `cache: false`, so it stays in git as it is")
        return None
    want = out_hash(out)
    if want is None:
        report.needs("data", rel, f"{dvcfile} records no md5 for it; skipped",
                     hint=f"Track it with `loom add {shlex.quote(rel)}`.")  # fmt: skip
        return None
    ws = sources.ws
    if os.path.lexists(ws.path_of(rel + ptrs.SUFFIX)) and not force:
        report.needs(
            "data",
            rel,
            f"{rel}{ptrs.SUFFIX} exists already; kept as it is",
            hint="Run `loom import-dvc --force` to replace it with DVC's version.",
        )
        return None
    try:
        if os.path.lexists(ws.path_of(rel)):
            validate(ws, [rel])  # names a pointer can hold, nesting, not tracked by git
        else:
            gitignore.pattern(posixpath.basename(rel))
    except UsageError as exc:
        report.needs("data", rel, exc.message, exc.hint)
        return None
    found = sources.find(rel, want, store=True)
    if isinstance(found, str):
        report.needs(
            "data",
            rel,
            f"not converted: {found}",
            hint="Run `dvc pull` (or `dvc fetch`), then `loom import-dvc --force`.",
        )
        return None
    return _save(ws, report, dvcfile, found)


def _save(ws, report: Report, dvcfile: str, found: Found) -> Pointer:
    ptr = Pointer(found.rel, found.oid, found.size, found.kind, found.files)  # type: ignore[arg-type]
    ptrs.save(ws.root, ptr)
    report.wrote(ptr.pointer_rel)
    full = ws.path_of(found.rel)
    if gitignore.ensure_ignored(full.parent, full.name):
        report.wrote(posixpath.join(posixpath.dirname(found.rel), ".gitignore").lstrip("/"))
    where = "the workspace" if found.source == "workspace" else "DVC's cache"
    what = f"{found.files} files" if found.kind == "dir" else "file"
    report.done("data", found.rel, f"{dvcfile} -> {ptr.pointer_rel} ({what}, from {where})")
    if found.source != "workspace":
        shown = shlex.quote(found.rel)
        note = (
            f"the workspace copy differs from DVC's version (kept as it is); `loom checkout "
            f"--force {shown}` puts DVC's version back"
            if os.path.lexists(full)
            else f"not in the workspace; `loom checkout {shown}` puts it there"
        )
        report.needs("data", found.rel, note)
    return ptr
