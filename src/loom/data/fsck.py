"""``loom fsck``: verify every cached object and say which tracked paths a bad one breaks.

>>> report = fsck(ws)
>>> report.ok, [p["object"] for p in report.problems]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loom.data.pointer import Pointer
from loom.data.progress import NO_PROGRESS, Progress
from loom.data.select import select_pointers
from loom.data.state import StateIndex
from loom.data.trees import load_tree
from loom.data.workspace import Workspace
from loom.errors import LoomError


@dataclass
class FsckReport:
    checked: int = 0
    problems: list[dict] = field(default_factory=list)  # oid, object, message, used_by

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "problems": self.problems}


def fsck(ws: Workspace, *, jobs: int | None = None, progress: Progress = NO_PROGRESS) -> FsckReport:
    """Hash every object (loose and packed) and check every pack index."""
    odb = ws.odb
    total = sum(1 for _ in odb.iter_oids())
    advance = progress.task("Verifying objects", total)
    bad = odb.fsck(jobs=jobs, on_done=advance)
    report = FsckReport(checked=total)
    users = _users(ws, select_pointers(ws)) if bad else {}
    for exc in bad:
        oid = exc.fields.get("oid")
        report.problems.append(
            {
                "oid": oid,
                "object": exc.fields.get("path"),
                "message": exc.message,
                "used_by": sorted(users.get(oid, [])) if oid else [],
            }
        )
    if bad:  # the "every object is cached" memo can't be trusted any more
        state = StateIndex(ws.loom_dir / "state.db")
        state.forget_complete()
        state.close()
    return report


def _users(ws: Workspace, pointers: list[Pointer]) -> dict[str, list[str]]:
    """oid -> workspace paths that need it (for telling the user what a bad object breaks)."""
    out: dict[str, list[str]] = {}
    for ptr in pointers:
        out.setdefault(ptr.hash, []).append(ptr.rel)
        if ptr.kind == "dir":
            try:
                tree = load_tree(ws.odb, ptr.hash, ptr.pointer_rel)
            except LoomError:
                continue
            for e in tree.entries:
                out.setdefault(e.hash, []).append(f"{ptr.rel}/{e.path}")
    return out
