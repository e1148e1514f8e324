"""``cache.dir``: the object cache can live elsewhere and be shared (experiments' worktrees do)."""

from __future__ import annotations

from loom.data.add import add
from loom.data.workspace import Workspace
from loom.tracking.uri import artifact_root, sqlite_uri

from .conftest import write


def test_cache_dir_is_relative_to_the_workspace_and_the_environment_wins(ws, monkeypatch) -> None:
    root = ws.root
    assert ws.cache_dir == root / ".loom/cache"
    write(root / ".loom/config.local.toml", '[cache]\ndir = "../shared-cache"\n')
    moved = Workspace(root)
    assert moved.cache_dir == root / "../shared-cache"
    write(root / "data.txt", "hello\n")
    [ptr] = add(moved, ["data.txt"])
    assert moved.odb.root == root / "../shared-cache" and not moved.odb.missing([ptr.hash])
    assert not (root / ".loom/cache").exists()
    # the workspace's tracking store keeps run artifacts in that cache too
    assert artifact_root(sqlite_uri(root / ".loom/loom.db")) == root / "../shared-cache"
    monkeypatch.setenv("LOOM_CACHE_DIR", str(root / "elsewhere"))
    assert Workspace(root).cache_dir == root / "elsewhere"
