"""Run one object-store operation in its own process, printing progress, for SIGKILL tests.

    python crash_worker.py add|push|pull|gc CACHE REMOTE ITEMS_JSON

Packs are capped small here so that one run commits many of them: a kill then
lands between, before and inside pack writes, not just around one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import loom.objects.odb
import loom.objects.transfer
from loom.objects import ObjectDB, collect, open_remote, pull, push

SMALL_PACK = 256 * 1024


def report(n: int) -> None:
    print(n, flush=True)


def main(op: str, cache: str, remote_url: str, items_file: str) -> None:
    loom.objects.odb.PACK_MAX = SMALL_PACK
    loom.objects.transfer.PACK_MAX = SMALL_PACK
    items = [tuple(i) for i in json.loads(Path(items_file).read_text())]
    oids = [oid for _, oid, _ in items]
    odb = ObjectDB(cache)
    report(0)
    if op == "add":
        # one add_files call per slice of files, as `loom add` of several paths would
        for i in range(0, len(items), 500):
            odb.add_files(items[i : i + 500], jobs=2, on_done=report)
    elif op == "push":
        push(odb, open_remote(remote_url), oids, jobs=2, on_done=report)
    elif op == "pull":
        pull(odb, open_remote(remote_url), oids, jobs=2, on_done=report)
    elif op == "gc":
        collect(odb, set(oids[::2]), grace_seconds=0)
    print("done", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
