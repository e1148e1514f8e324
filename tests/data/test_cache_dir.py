"""``cache.dir``: the object cache can live elsewhere and be shared (experiments' worktrees do)."""

from __future__ import annotations

import pytest

from loom.data.add import add
from loom.data.gc import gc
from loom.data.workspace import Workspace
from loom.errors import UsageError
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


def test_gc_refuses_a_shared_cache_it_cannot_see_all_users_of(ws) -> None:
    root = ws.root
    write(root / "other.txt", "only another workspace points at this\n")
    [other] = add(ws, ["other.txt"])  # in the cache that is about to be shared
    (root / "other.txt.loom").unlink()
    write(root / ".loom/config.local.toml", f'[cache]\ndir = "{ws.cache_dir}"\n')
    sharing = Workspace(root)
    with pytest.raises(UsageError, match="other workspaces share") as err:
        gc(sharing, grace_seconds=0)
    assert "loom gc --dry-run" in (err.value.hint or "")
    assert not sharing.odb.missing([other.hash])  # nothing was removed
    assert other.hash in gc(sharing, grace_seconds=0, dry_run=True).removed
