"""Refs that travel with ``loom push`` and ``loom pull``: the pipelines' run cache entries.

A run cache entry is a ref ``refs/runcache/<key>`` in the cache (see
``loom.pipelines.runcache``): its first oid names the entry object, the others
the objects its outs need. ``push`` (with no paths) copies each ref the remote
lacks to ``<remote>/refs/<kind>/<name>`` — after the objects, which it sends
with the other ref'd objects — and ``fetch``/``pull`` (with no paths) bring the
refs this cache lacks and their entry objects; the outs' objects are fetched
when an entry is used. A ref is never overwritten on either side.

    >>> push_refs(ws, remote)          # doctest: +SKIP
    3
"""

from __future__ import annotations

from loom.data.workspace import Workspace
from loom.errors import LoomError, ValidationError
from loom.objects import transfer
from loom.objects.hashing import is_oid
from loom.objects.refs import REFS_DIR, Refs
from loom.objects.remote import Remote

TRAVELLING = ("runcache",)


def push_refs(ws: Workspace, remote: Remote) -> int:
    """Copy the travelling refs the remote lacks; how many were copied."""
    sent = 0
    refs = ws.odb.refs
    for kind in TRAVELLING:
        there = set(_remote_names(remote, kind))
        for name in refs.names(kind):
            if name in there:
                continue
            path = refs.path(kind, name)
            remote.put_bytes(path.read_bytes(), _remote_path(remote, kind, name))
            sent += 1
    return sent


def fetch_refs(ws: Workspace, remote: Remote) -> int:
    """Bring the travelling refs this cache lacks, with their entry objects; how many."""
    got = 0
    refs = ws.odb.refs
    for kind in TRAVELLING:
        have = set(refs.names(kind))
        wanted = [n for n in _remote_names(remote, kind) if n not in have]
        if not wanted:
            continue
        paths = [_remote_path(remote, kind, n) for n in wanted]
        with remote.errors(f"read {kind} refs"):
            blobs = remote.fs.cat(paths, on_error="return")
        found: dict[str, list[str]] = {}
        for name, path in zip(wanted, paths, strict=True):
            data = blobs.get(path) or blobs.get(remote.fs.unstrip_protocol(path))
            oids = _oids(data) if isinstance(data, bytes) else []
            if oids:
                found[name] = oids
        try:
            transfer.pull(ws.odb, remote, sorted({oids[0] for oids in found.values()}))
        except LoomError:
            pass  # entries whose object the remote lacks are left out below
        for name, oids in found.items():
            if ws.odb.exists(oids[0]):
                refs.write(kind, name, oids)
                got += 1
    return got


def _remote_names(remote: Remote, kind: str) -> list[str]:
    folder = f"{remote.root}/{REFS_DIR}/{kind}"
    with remote.errors(f"list {kind} refs"):
        try:
            entries = remote.fs.ls(folder, detail=False)
        except FileNotFoundError:
            return []
    names = (str(e).rstrip("/").rsplit("/", 1)[-1] for e in entries)
    return [n for n in names if _valid(kind, n)]  # anything else is not Loom's


def _valid(kind: str, name: str) -> bool:
    try:
        Refs("/").path(kind, name)  # the one check of ref names
    except ValidationError:
        return False
    return True


def _remote_path(remote: Remote, kind: str, name: str) -> str:
    return f"{remote.root}/{REFS_DIR}/{kind}/{name}"


def _oids(data: bytes) -> list[str]:
    lines = data.decode("ascii", "replace").split("\n")
    return list(dict.fromkeys(line for line in lines if len(line) == 64 and is_oid(line)))
