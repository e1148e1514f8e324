"""Shared fixtures: real services (PostgreSQL, moto's S3 server), never mocks.

Under ``CI=true`` a missing service fails the test; elsewhere it skips with a reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_URL = os.environ.get("LOOM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def need_service(reason: str) -> None:
    """Skip outside CI, fail inside it: CI must exercise every service."""
    if IN_CI:
        pytest.fail(f"service missing under CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's standalone S3 server on a free 127.0.0.1 port; yields its endpoint URL."""
    if shutil.which("moto_server", path=str(Path(sys.executable).parent)) is None:
        need_service("moto[server] is not installed (pip install 'moto[server]')")
    port = free_port()
    exe = str(Path(sys.executable).parent / "moto_server")
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _port_open(port), timeout=30, what="moto S3 server")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def s3_env(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Credentials for moto in the usual AWS variables, and a fresh bucket."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    import s3fs

    bucket = "loom-" + uuid.uuid4().hex[:12]
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_server}, skip_instance_cache=True)
    fs.mkdir(bucket)
    return {**env, "endpoint_url": s3_server, "bucket": bucket}


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the PostgreSQL service; a fresh schema per test comes from ``pg_store_url``."""
    try:
        import psycopg

        with psycopg.connect(
            PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3
        ) as conn:
            conn.execute("select 1")
    except Exception as exc:  # any failure to connect means the service is not usable
        need_service(f"PostgreSQL is not reachable at {PG_URL}: {exc}")
    return PG_URL


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty real git repository as the current directory."""
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "config", "user.email", "t@example.com"], cwd=repo, check=True)
    subprocess.run(["git", "config", "user.name", "Loom Test"], cwd=repo, check=True)
    monkeypatch.chdir(repo)
    return repo
