"""Versions in the cache that the default remote lacks: ``loom status`` says so.

Deleting the cache (or the clone) before a push loses those versions for good,
so ``status`` warns about them. It asks no remote: ``add`` records each
version, and ``push`` / ``fetch`` record what a remote holds (``loom.data.ledger``).
When no remote was ever configured here, it stays quiet.

Cost, on the hot path of ``status``: the two config files (already small and
parsed anyway), one indexed query on the ledger, and one stat per unpushed
version (a packed one, a small file, loads the pack indexes). No network.
"""

from __future__ import annotations

from collections.abc import Collection

from loom.data.ledger import Ledger
from loom.data.remotes import known_default, location
from loom.data.state import StateIndex
from loom.data.workspace import Workspace
from loom.errors import warn

_SHOWN = 5


def unpushed(
    ws: Workspace, state: StateIndex, paths: Collection[str] | None = None
) -> tuple[str, list[str]] | None:
    """``(remote name, ["data/raw@1a2b3c4d", ...])``, newest first; None without a remote.

    ``paths``: only versions of these workspace-relative paths.
    """
    ledger = Ledger(state.connection())
    remote = known_default(ws, ledger)
    if remote is None:
        return None
    rows = ledger.not_on_remote(location(ws, remote))
    if paths is not None:
        rows = [(p, h) for p, h in rows if p in paths]
    if not rows:
        return remote.name, []
    # Only versions still in the cache count. One stat each for trees (stored loose);
    # not odb.missing, which loads every pack index first (0.1 s per 20k objects).
    return remote.name, [f"{p}@{h[:8]}" for p, h in rows if ws.odb.exists(h)]


def warn_unpushed(ws: Workspace, state: StateIndex, paths: Collection[str] | None = None) -> None:
    found = unpushed(ws, state, paths)
    if not found or not found[1]:
        return
    name, versions = found
    shown = ", ".join(versions[:_SHOWN])
    more = f" and {len(versions) - _SHOWN} more" if len(versions) > _SHOWN else ""
    warn(
        f"{len(versions)} version(s) in the cache are not on remote {name!r}: {shown}{more}. "
        "Deleting the cache before a push loses them.",
        hint="`loom push` sends the checked-out versions, "
        "`loom push --all-commits` every committed one.",
    )
