"""Remote.errors: each OSError gets the hint of where it happened (disk, permissions, cloud).

The CLI tests (tests/cli/test_never_a_traceback.py) meet these through real
read-only folders and a full tmpfs; here every branch of the mapping is pinned.
"""

from __future__ import annotations

import errno

import pytest

from loom.errors import RemoteError
from loom.objects import open_remote


def _said(remote, exc: BaseException, *, reading: bool = False) -> RemoteError:
    with pytest.raises(RemoteError) as info, remote.errors("write x", reading=reading):
        raise exc
    return info.value


def test_local_remote_errors_get_the_filesystem_hint(tmp_path):
    local = open_remote(str(tmp_path / "r"))
    denied = _said(local, PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "r")))
    assert "Check the permissions of" in denied.hint and "AWS" not in denied.hint
    assert str(tmp_path / "r") in denied.message
    full = _said(local, OSError(errno.ENOSPC, "No space left on device", "/cache/obj"))
    assert "disk of remote" in full.hint and "/cache/obj" not in full.message
    # reading (a download into the cache): the local disk is the full one
    full = _said(local, OSError(errno.ENOSPC, "No space left on device"), reading=True)
    assert "loom gc" in full.hint and "remote" not in full.hint


def test_cloud_remote_keeps_credentials_and_reachability_hints():
    cloud = open_remote("s3://bucket/loom") if _has("s3fs") else pytest.skip("needs s3fs")
    denied = _said(cloud, PermissionError("Access Denied"))
    assert "AWS_ACCESS_KEY_ID" in denied.hint
    assert "reachable" in _said(cloud, ConnectionError("refused")).hint
    assert "reachable" in _said(cloud, OSError("botocore said no")).hint
    full = _said(cloud, OSError(errno.ENOSPC, "No space left on device"), reading=True)
    assert "reachable" not in full.hint and "space" in full.hint


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
