"""A real ``loom server`` in a subprocess, on a free port, in a temporary folder.

``start_server(tmp, *args)`` returns a :class:`ServerProc` once the server has
printed its address and answers ``/health``; ``stop()`` sends SIGTERM and waits.
The ``server`` fixture is one such server (SQLite, local artifacts, auth off)
shared by a test module.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import wait_for

LOOM = str(Path(sys.executable).parent / "loom")
_ADDRESS = re.compile(r"Loom server on (http://\S+?) ")


class ServerProc:
    def __init__(self, proc: subprocess.Popen, cwd: Path) -> None:
        self.proc = proc
        self.cwd = cwd
        self.url = ""
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(proc.stdout, self.stdout), daemon=True).start()
        threading.Thread(target=self._pump, args=(proc.stderr, self.stderr), daemon=True).start()

    @staticmethod
    def _pump(stream, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            lines.append(line)

    def wait_ready(self, timeout: float = 30) -> ServerProc:
        def address() -> str | None:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"server exited {self.proc.returncode}:\n{''.join(self.stdout)}"
                    f"{''.join(self.stderr)}"
                )
            for line in self.stdout:
                if m := _ADDRESS.search(line):
                    return m.group(1)
            return None

        self.url = wait_for(address, timeout=timeout, what="the server's address line")

        def healthy() -> bool:
            try:
                return httpx.get(self.url + "/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=timeout, what="GET /health")
        return self

    def access_log(self) -> list[str]:
        return [line for line in self.stderr if line.startswith("{")]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


def cheap_hash(password: str) -> str:
    """An argon2id hash with the cheapest parameters: a hash carries its own, so the
    server's checks of these test passwords stay quick (real ones use the defaults)."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)


def launch(cwd: Path, *args: str, env: dict[str, str] | None = None) -> ServerProc:
    """Start ``loom server --port 0 ARGS`` in ``cwd`` (its own process group)."""
    cwd.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **(env or {})}
    full_env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.Popen(
        [LOOM, "server", "--port", "0", *args],
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    return ServerProc(proc, cwd)


def start_server(cwd: Path, *args: str, env: dict[str, str] | None = None) -> ServerProc:
    return launch(cwd, *args, env=env).wait_ready()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    srv = start_server(tmp_path_factory.mktemp("server"))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def mlflow_client(server: ServerProc, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The real ``mlflow`` package pointed at ``server`` (fluent API and MlflowClient)."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    # a 5xx fails the test at once instead of hiding behind the client's retries
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    mlflow.set_tracking_uri(server.url)
    yield mlflow.MlflowClient(server.url)
    if mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)
