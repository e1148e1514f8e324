"""The run cache: a stage seen before with the same cmd, dep hashes and params gets its outs
back without running — switching a param back is instant.

Key: the hash of the resolved cmd, wdir, each dep's path and hash, the param
values and the outs' paths (and whether each is cached). Entry: an object in
the workspace cache (JSON: the outs' versions), named by a ref
``refs/runcache/<key>`` whose first line is the entry's oid and whose other
lines are every object the outs need — so ``loom gc`` keeps them all
(``loom.objects.refs``), and ``loom push`` sends them with the other ref'd
objects. The refs themselves travel too (``loom.data.shared_refs``): ``loom
pull`` brings the entries, and the outs' objects come from the remote when an
entry is used.

    >>> cache.lookup(key(stage, deps, params), ["models/model"])   # doctest: +SKIP
    [Entry(path='models/model', hash='…', size=123, kind='file')]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from loom._types import Oid
from loom.data.trees import load_tree
from loom.data.workspace import Workspace
from loom.errors import LoomError
from loom.objects.hashing import hash_bytes
from loom.pipelines.lock import Entry
from loom.pipelines.spec import Stage

KIND = "runcache"  # the refs kind (loom.data.shared_refs lists it as travelling)
SCHEMA = "loom-runcache/1"


def key(stage: Stage, deps: Sequence[Entry], params: Mapping[str, Mapping[str, Any]]) -> str:
    """The run cache key of ``stage`` with these dep versions and param values."""
    doc = {
        "cmd": stage.cmd,
        "wdir": stage.wdir,
        "deps": sorted((d.path, d.hash) for d in deps),
        "params": params,
        "outs": sorted((o.path, o.cache) for o in stage.outs),
    }
    text = json.dumps(doc, sort_keys=True, default=str, separators=(",", ":"))
    return hash_bytes(text.encode())


def persists(stage: Stage) -> bool:
    """A stage with a ``persist`` out builds on what was there: no run cache for it (as DVC)."""
    return any(o.persist for o in stage.outs)


class RunCache:
    """``fetch``: bring missing objects from the default remote (not for ``status``)."""

    def __init__(self, ws: Workspace, *, fetch: bool = True) -> None:
        self.ws = ws
        self.odb = ws.odb
        self.fetch = fetch

    def save(self, key: str, outs: Sequence[Entry]) -> None:
        """Remember ``outs`` (already stored in the cache) for ``key``."""
        doc = {"schema": SCHEMA, "outs": [o.as_dict() for o in outs]}
        entry = self.odb.add_bytes(json.dumps(doc, sort_keys=True).encode())
        self.odb.refs.write(KIND, key, [entry, *self._objects(outs)])

    def lookup(self, key: str, paths: Sequence[str]) -> list[Entry] | None:
        """The outs stored for ``key`` when every object they need is here (or could be
        fetched from the default remote); None otherwise."""
        lines = self.odb.refs.read(KIND, key)
        if not lines:
            return None
        try:
            doc = json.loads(self.odb.read(lines[0]))
            outs = [_entry(e) for e in doc["outs"]]
        except (LoomError, ValueError, KeyError, TypeError):
            return None  # an entry from elsewhere whose object can't be read: run instead
        if sorted(o.path for o in outs) != sorted(paths):
            return None
        return self.available(outs, lines[1:])

    def available(self, outs: list[Entry], oids: Sequence[Oid] | None = None) -> list[Entry] | None:
        """``outs`` if all their objects are in the cache, fetching what is missing from the
        default remote first; None if some can't be had."""
        try:
            need = list(oids) if oids else self._objects(outs)
        except LoomError:
            need = None  # a folder's listing is missing: fetch it, then its files
        if need is not None and not self.odb.missing(need):
            return outs
        if not self._fetch([o.hash for o in outs]):
            return None
        try:
            need = self._objects(outs)
        except LoomError:
            return None
        if self.odb.missing(need) and not self._fetch(need):
            return None
        return outs if not self.odb.missing(need) else None

    def _objects(self, outs: Sequence[Entry]) -> list[Oid]:
        out: list[Oid] = []
        for o in outs:
            out.append(o.hash)
            if o.kind == "dir":
                out.extend(e.hash for e in load_tree(self.odb, o.hash, o.path).entries)
        return list(dict.fromkeys(out))

    def _fetch(self, oids: list[Oid]) -> bool:
        """Bring ``oids`` from the default remote; False when there is none or it fails."""
        missing = sorted(self.odb.missing(oids))
        if not missing:
            return True
        if not self.fetch:
            return False
        from loom.data.remotes import open_configured
        from loom.objects import transfer

        try:
            transfer.pull(self.odb, open_configured(self.ws), missing)
        except LoomError:
            return False
        return not self.odb.missing(missing)


def _entry(e: dict[str, Any]) -> Entry:
    return Entry(
        str(e["path"]),
        str(e["hash"]),
        int(e["size"]),
        str(e.get("kind", "file")),
        e.get("files"),
        e.get("cache", True) is not False,
    )
