"""``loom.lock``: what each stage's last successful run read and wrote (YAML, in git).

    schema: loom-lock/1
    stages:
      train:
        cmd: python src/train.py
        deps:
        - {path: data/processed, hash: …, size: 123, files: 20, kind: dir}
        params:
          params.yaml: {train.lr: 0.01}
        outs:
        - {path: models/model, hash: …, size: 456, kind: file}
        - {path: metrics.json, hash: …, size: 78, kind: file, cache: false}

Paths are relative to the workspace root; ``wdir`` is written only when it is
not the root. A stage's entry is written after it succeeded, by replacing the
whole file atomically (``loom.atomic``): a reader, or a kill, sees the old file
or the new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loom import atomic
from loom.errors import from_oserror
from loom.objects.hashing import is_oid
from loom.pipelines.errors import PipelineError, Where

FILE = "loom.lock"
SCHEMA = "loom-lock/1"


@dataclass(frozen=True)
class Entry:
    """One path's version: a dep or an out (``cache`` false: kept in git, not the cache)."""

    path: str
    hash: str
    size: int
    kind: str  # "file" | "dir"
    files: int | None = None
    cache: bool = True

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "hash": self.hash, "size": self.size}
        if self.files is not None:
            out["files"] = self.files
        out["kind"] = self.kind
        if not self.cache:
            out["cache"] = False
        return out

    def same(self, other: Entry | None) -> bool:
        return other is not None and (self.hash, self.kind) == (other.hash, other.kind)


@dataclass(frozen=True)
class StageLock:
    cmd: str
    wdir: str = "."
    deps: tuple[Entry, ...] = ()
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    outs: tuple[Entry, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cmd": self.cmd}
        if self.wdir != ".":
            out["wdir"] = self.wdir
        if self.deps:
            out["deps"] = [d.as_dict() for d in self.deps]
        if self.params:
            out["params"] = {f: dict(v) for f, v in self.params.items()}
        if self.outs:
            out["outs"] = [o.as_dict() for o in self.outs]
        return out


def read(root: Path) -> dict[str, StageLock]:
    """The stages of ``root/loom.lock`` (empty when there is none)."""
    try:
        data = (root / FILE).read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise from_oserror(exc, f"read {FILE}") from None
    return parse(data)


def parse(data: bytes | str) -> dict[str, StageLock]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        doc = yaml.load(data, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _bad(mark.line + 1 if mark else 0, f"not valid YAML ({exc})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict) or not isinstance(doc.get("stages", {}), dict):
        raise _bad(1, "expected schema: and a stages: mapping")
    if doc.get("schema", SCHEMA) != SCHEMA:
        raise _bad(1, f"schema {doc.get('schema')!r} is not {SCHEMA!r}")
    return {str(name): _stage(name, body) for name, body in (doc.get("stages") or {}).items()}


def _bad(line: int, why: str) -> PipelineError:
    return PipelineError(
        Where(FILE, line),
        f"{why}.",
        hint=f"Restore it with `git checkout -- {FILE}`, or delete it (every stage then "
        "runs once more).",
    )


def _stage(name: str, body: Any) -> StageLock:
    if not isinstance(body, dict) or not isinstance(body.get("cmd"), str):
        raise _bad(0, f"stage {name!r} has no cmd")
    params = body.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise _bad(0, f"stage {name!r}: params must map files to their values")
    return StageLock(
        cmd=body["cmd"],
        wdir=str(body.get("wdir", ".")),
        deps=tuple(_entry(name, e) for e in body.get("deps") or ()),
        params={str(f): dict(v) for f, v in params.items()},
        outs=tuple(_entry(name, e) for e in body.get("outs") or ()),
    )


def _entry(stage: str, e: Any) -> Entry:
    ok = (
        isinstance(e, dict)
        and isinstance(e.get("path"), str)
        and is_oid(e.get("hash"))
        and isinstance(e.get("size", 0), int)
        and e.get("kind", "file") in ("file", "dir")
    )
    if not ok:
        raise _bad(0, f"stage {stage!r}: bad entry {e!r}")
    files = e.get("files")
    return Entry(
        e["path"],
        e["hash"],
        int(e.get("size", 0)),
        e.get("kind", "file"),
        files if isinstance(files, int) else None,
        e.get("cache", True) is not False,
    )


def dumps(stages: Mapping[str, StageLock]) -> str:
    import yaml

    doc = {"schema": SCHEMA, "stages": {name: s.as_dict() for name, s in stages.items()}}
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    # flow style for the leaf mappings (one line per path), never wrapped
    return yaml.dump(
        doc,
        Dumper=dumper,
        sort_keys=False,
        default_flow_style=None,
        width=1 << 30,
        allow_unicode=True,
    )


def write(root: Path, stages: Mapping[str, StageLock]) -> None:
    try:
        atomic.write_text(root / FILE, dumps(stages))
    except OSError as exc:
        raise from_oserror(exc, f"write {FILE}") from None


def update(
    root: Path, name: str, entry: StageLock, keep: Iterable[str] | None = None
) -> dict[str, StageLock]:
    """Replace stage ``name``'s entry (re-reading the file first); with ``keep``, also drop
    entries of stages no longer in loom.yaml. Stages stay in ``keep``'s order."""
    stages = read(root)
    stages[name] = entry
    if keep is not None:
        order = list(keep)
        stages = {n: stages[n] for n in order if n in stages}
    write(root, stages)
    return stages
