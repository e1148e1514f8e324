"""open_remote: schemes, install hints, unreachable remotes — each a LoomError with a hint."""

from __future__ import annotations

import importlib.util
import time

import pytest

from loom.errors import DependencyError, RemoteError
from loom.objects import ObjectDB, open_remote, push
from tests.conftest import free_port


def test_local_paths_absolute_relative_and_file_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rel = open_remote("store")
    assert rel.local and rel.root == str(tmp_path / "store")
    assert open_remote(f"file://{tmp_path}/x").root == str(tmp_path / "x")
    assert open_remote(str(tmp_path / "y")).path("ab" * 32) == (
        f"{tmp_path}/y/blake3/ab/{'ab' * 31}"
    )


def test_unknown_scheme_names_it_and_lists_supported_ones():
    with pytest.raises(RemoteError, match="'ftp'") as exc:
        open_remote("ftp://host/path")
    assert "s3://" in exc.value.hint and "gs://" in exc.value.hint


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("gs://bucket/p", "gcsfs", "gs"),
        ("azure://container/p", "adlfs", "azure"),
        ("az://container/p", "adlfs", "azure"),
        ("abfs://container/p", "adlfs", "azure"),
    ],
)
def test_cloud_schemes_without_their_driver_give_an_install_hint(url, module, extra):
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here")
    with pytest.raises(DependencyError) as exc:
        open_remote(url)
    assert exc.value.hint == f"pip install 'loom[{extra}]'"


def test_s3_url_without_bucket_is_refused():
    with pytest.raises(RemoteError, match="names no bucket"):
        open_remote("s3:///path", endpoint_url="http://127.0.0.1:9")


@pytest.mark.s3
def test_unreachable_s3_endpoint_is_a_remote_error_not_a_traceback(tmp_path, s3_env):
    odb = ObjectDB(tmp_path / "cache")
    oid = odb.add_bytes(b"payload")
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    remote = open_remote("s3://bucket/loom", endpoint_url=dead)
    start = time.monotonic()
    with pytest.raises(RemoteError) as exc:
        push(odb, remote, [oid])
    assert "s3://bucket/loom" in exc.value.message
    assert "endpoint_url" in exc.value.hint
    assert time.monotonic() - start < 60


@pytest.mark.s3
def test_missing_bucket_is_a_remote_error(tmp_path, s3_env):
    odb = ObjectDB(tmp_path / "cache")
    oid = odb.add_bytes(b"payload")
    remote = open_remote("s3://no-such-bucket-loom/x", endpoint_url=s3_env["endpoint_url"])
    with pytest.raises(RemoteError):
        push(odb, remote, [oid])
