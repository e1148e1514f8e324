"""Queued experiments: a JSON file each under ``.loom/exps/queue/``, and a git ref keeping
its base commit (``refs/loom/exps/queue/<id>``).

The id is the run id the experiment's run will get, so a queued experiment and
its run are one thing from start to end.

    >>> add(ws, Queued(uuid.uuid4().hex, "brisk-oars", ["params.yaml:train.lr=0.1"], base, head))
    >>> [q.name for q in entries(ws)]
    ['brisk-oars']
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loom import atomic
from loom.data.workspace import Workspace
from loom.errors import from_oserror, warn
from loom.pipelines import gitwork

QUEUED = "QUEUED"  # how exp show names their status


@dataclass(frozen=True)
class Queued:
    id: str
    name: str
    overrides: list[str]
    base: str
    head: str
    targets: list[str] = field(default_factory=list)
    created: int = field(default_factory=lambda: int(time.time() * 1000))

    @property
    def ref(self) -> str:
        return f"{gitwork.REFS}/queue/{self.id}"


def folder(ws: Workspace) -> Path:
    return ws.loom_dir / "exps" / "queue"


def add(ws: Workspace, q: Queued) -> None:
    top = folder(ws)
    try:
        top.mkdir(parents=True, exist_ok=True)
        ignore = top.parent / ".gitignore"  # never committed, whatever .loom/.gitignore says
        if not ignore.exists():
            atomic.write_text(ignore, "*\n")
        gitwork.keep(ws.root, q.ref, q.base)
        atomic.write_text(top / f"{q.id}.json", json.dumps(asdict(q), indent=2) + "\n")
    except OSError as exc:
        raise from_oserror(exc, "queue the experiment") from None


def entries(ws: Workspace) -> list[Queued]:
    """The queued experiments, oldest first; an unreadable entry is skipped with a warning."""
    out = []
    for path in sorted(folder(ws).glob("*.json")) if folder(ws).is_dir() else ():
        try:
            out.append(Queued(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError) as exc:
            warn(f"Skipping the queued experiment {path}: {exc}", hint=f"Delete {path}.")
    return sorted(out, key=lambda q: (q.created, q.id))


def remove(ws: Workspace, q: Queued) -> None:
    (folder(ws) / f"{q.id}.json").unlink(missing_ok=True)
    gitwork.drop(ws.root, q.ref)
