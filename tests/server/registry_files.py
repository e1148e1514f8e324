"""Files for registry tests, put where the artifact proxy's uploads would put them.

The registry only registers files the server keeps: a run's artifact rows and
their bytes by hash. These helpers write both straight into a test server's
SQLite store and artifact folder (the server runs in a subprocess).
"""

from __future__ import annotations

from pathlib import Path

from loom.entities import Artifact
from loom.objects.odb import ObjectDB
from loom.objects.tree import Tree, TreeEntry
from loom.store import Store, open_store
from loom.tracking.uri import sqlite_uri


def server_store(cwd: Path) -> Store:
    return open_store(sqlite_uri(Path(cwd) / "loom.db"))


def log_files(cwd: Path, store: Store, run_id: str, files: dict[str, bytes]) -> Tree:
    """Log ``files`` (path -> bytes) as the run's artifacts; the tree of those under
    their first folder (``model/…``), as a version made from them has."""
    odb = ObjectDB(Path(cwd) / "mlartifacts")
    arts = [Artifact(path, odb.add_bytes(data), len(data)) for path, data in files.items()]
    store.log_artifacts(run_id, arts)
    return Tree.from_entries(
        TreeEntry(a.path.split("/", 1)[1], a.hash, a.size) for a in arts if "/" in a.path
    )


def store_tree(cwd: Path, tree: Tree) -> None:
    ObjectDB(Path(cwd) / "mlartifacts").add_bytes(tree.to_bytes())
