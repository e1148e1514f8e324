"""`in_cache` in status is the cache as it is now, not as a memo remembers it."""

from __future__ import annotations

import json
import shutil

from loom.data.add import add
from loom.data.remotes import add_remote
from loom.data.status import status
from loom.data.sync import pull, push
from loom.data.workspace import Workspace

from .conftest import make_dataset, write


def _in_cache(ws) -> dict[str, bool]:
    return {s.path: s.in_cache for s in status(Workspace(ws.root))}


def test_deleted_packs_folder_is_seen(ws):
    make_dataset("data", n=20)  # small files: packed
    add(ws, ["data"])
    assert _in_cache(ws) == {"data": True}
    shutil.rmtree(ws.odb.root / "packs")  # the tree is loose and stays
    assert ws.odb.exists(_hash(ws))
    assert _in_cache(ws) == {"data": False}


def test_cache_with_the_listing_but_not_the_files(ws, tmp_path):
    make_dataset("data", n=20)
    write("data/big.bin", b"x" * 100_000)  # a loose one too
    [ptr] = add(ws, ["data"])
    assert _in_cache(ws) == {"data": True}  # remembered
    listing = ws.odb.read(ptr.hash)
    shutil.rmtree(ws.odb.root)
    Workspace(ws.root).odb.add_bytes(listing)  # e.g. a pull that got the tree only
    assert _in_cache(ws) == {"data": False}
    add_remote(ws, "storage", str(tmp_path / "r"), default=True)
    # once the files are back, the memo is made again and holds
    shutil.rmtree(ws.odb.root)
    make_dataset("data", n=20)
    add(ws, ["data"])
    push(ws)
    shutil.rmtree(ws.odb.root)
    pull(Workspace(ws.root))
    assert _in_cache(ws) == {"data": True}


def test_a_loose_object_removed_is_seen(ws):
    write("data/a.bin", b"a" * 100_000)
    write("data/b.bin", b"b" * 100_000)
    [ptr] = add(ws, ["data"])
    assert _in_cache(ws) == {"data": True}
    odb = ws.odb
    entry = next(e for e in json.loads(odb.read(ptr.hash)) if e["path"] == "b.bin")
    odb.remove(entry["hash"])
    assert _in_cache(ws) == {"data": False}


def test_a_trusted_memo_loads_no_pack_index(ws):
    """status is a hot path: while the memo holds, no pack index is read."""
    make_dataset("data", n=50)
    add(ws, ["data"])
    status(Workspace(ws.root))  # the memo is made (add made it already)
    fresh = Workspace(ws.root)
    [row] = status(fresh)
    assert row.state == "clean" and row.in_cache
    assert fresh.odb.packs.packs == {}  # not loaded


def _hash(ws) -> str:
    from loom.data import pointer

    return pointer.load(ws.root, "data.loom").hash
