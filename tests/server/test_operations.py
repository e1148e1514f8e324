"""Running ``loom server``: health, access log, schema upgrades, draining on SIGTERM, workers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import wait_for
from tests.server.conftest import LOOM, ServerProc, launch, start_server

API = "/api/2.0/mlflow/"


def _log_entries(srv: ServerProc) -> list[dict]:
    return [json.loads(line) for line in srv.access_log()]


def test_health_and_json_access_log(server: ServerProc) -> None:
    r = httpx.get(server.url + "/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert httpx.get(server.url + API + "no/such-call").status_code == 404

    def logged() -> list[dict]:
        entries = _log_entries(server)
        return [e for e in entries if e["path"] == API + "no/such-call"] and entries

    entries = wait_for(logged, what="the access log lines")
    health = [e for e in entries if e["path"] == "/health"]
    assert health and health[-1]["method"] == "GET" and health[-1]["status"] == 200
    assert isinstance(health[-1]["ms"], float | int) and health[-1]["ms"] >= 0
    assert [e["status"] for e in entries if e["path"] == API + "no/such-call"] == [404]


def _old_store(folder: Path) -> str:
    """A SQLite store left at migration 0004, as an older Loom made it."""
    import sqlalchemy as sa
    from alembic import command

    from loom.store import migrate

    folder.mkdir(parents=True)
    uri = f"sqlite:///{folder / 'loom.db'}"
    engine = sa.create_engine(uri)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), "0004")
    finally:
        engine.dispose()
    return uri


def test_old_store_is_migrated_only_with_upgrade(tmp_path: Path) -> None:
    uri = _old_store(tmp_path / "old")
    refused = launch(tmp_path / "old", "--backend-store-uri", uri)
    assert refused.proc.wait(timeout=30) != 0
    said = wait_for(lambda: "--upgrade" in "".join(refused.stderr) and "".join(refused.stderr))
    assert "0004" in said and "Traceback" not in said

    srv = start_server(tmp_path / "old", "--backend-store-uri", uri, "--upgrade")
    try:
        assert "migrated from 0004" in "".join(srv.stdout)
        r = httpx.get(srv.url + API + "experiments/get", params={"experiment_id": "0"})
        assert r.status_code == 200, r.text
    finally:
        assert srv.stop() == 0


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "drain")
    try:
        r = httpx.post(srv.url + API + "runs/create", json={"experiment_id": "0"})
        run_id = r.json()["run"]["info"]["run_id"]
        points = [{"key": "m", "value": s, "timestamp": 1, "step": s} for s in range(500)]
        body = json.dumps({"run_id": run_id, "metrics": points}).encode()
        port = urlsplit(srv.url).port
        assert port
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(
                f"POST {API}runs/log-batch HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "Expect: 100-continue\r\n\r\n".encode()
            )
            # "100 Continue" comes when the handler starts reading the body: in flight now
            assert _read_head(sock).startswith(b"HTTP/1.1 100 ")
            sock.sendall(body[: len(body) // 2])
            srv.proc.send_signal(signal.SIGTERM)
            wait_for(lambda: _refused(port), what="the server to stop accepting connections")
            sock.sendall(body[len(body) // 2 :])
            head = _read_head(sock)
        assert head.startswith(b"HTTP/1.1 200 "), head
        assert srv.proc.wait(timeout=30) == 0
    finally:
        srv.stop()
    from loom.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'drain' / 'loom.db'}")
    try:
        assert len(store.get_metric_history(run_id, "m")) == 500
    finally:
        store.close()


def test_workers_share_the_port(tmp_path: Path) -> None:
    srv = start_server(tmp_path / "workers", "--workers", "2")
    try:

        def two_pids() -> set[int] | None:
            # a new connection each time: the kernel hands it to either worker
            assert httpx.get(srv.url + "/health", headers={"Connection": "close"}).is_success
            pids = {e["pid"] for e in _log_entries(srv) if e["path"] == "/health"}
            return pids if len(pids) >= 2 else None

        pids = wait_for(two_pids, timeout=30, interval=0, what="a second worker to answer")
        assert len(pids) == 2 and srv.proc.pid not in pids
        assert {os.getpgid(p) for p in pids} == {srv.proc.pid}  # the server's own workers
    finally:
        assert srv.stop() == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--backend-store-uri", "postgresql://nobody@127.0.0.1:1/x"], "is running and reachable"),
        (["--artifacts-destination", "ftp9://bucket/x"], "Unknown remote scheme"),
        (["--backend-store-uri", "mysql://x/y"], "scheme Loom doesn't know"),
        (["--port", "99999"], "less than or equal to 65535"),
    ],
)
def test_a_wrong_setting_stops_the_start_with_one_error(
    tmp_path: Path, args: list[str], says: str
) -> None:
    """Found by starting it wrong by hand: an unreachable database and a port out of range
    were tracebacks reported as Loom bugs; a bad artifact destination started a server
    whose first upload would fail."""
    done = subprocess.run(
        [LOOM, "server", "--port", "0", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out, err = done.stdout, done.stderr
    assert done.returncode != 0
    assert says in out + err
    assert "Traceback" not in out + err and "bug in Loom" not in out + err
    assert "Loom server on" not in out
