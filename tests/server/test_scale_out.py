"""Two ``loom server`` processes on one PostgreSQL schema and one S3 bucket act as one.

Fifty clients, each a thread with its own HTTP connections, send every other
request to the other server: they race to get-or-create one experiment, each
creates a run in it and logs its points (batches and single metrics mixed).
Afterwards every point is there, read through the server that did not write it,
there is one experiment and one run per client, and no answer was a 5xx.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import ServerProc, start_server
from tests.tracking.conftest import fresh_pg_schema

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

CLIENTS = 50
BATCHES, BATCH = 2, 95  # steps 0..189 through log-batch
SINGLES = 10  # steps 190..199 through log-metric, one request each
POINTS = BATCHES * BATCH + SINGLES
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts/"


@pytest.fixture
def two_servers(
    tmp_path: Path, pg_url: str, s3_env: dict[str, str]
) -> Iterator[tuple[ServerProc, ServerProc]]:
    store = next(schemas := fresh_pg_schema(pg_url))
    args = (
        "--backend-store-uri",
        store,
        "--artifacts-destination",
        f"s3://{s3_env['bucket']}/loom",
    )
    env = {k: v for k, v in s3_env.items() if k.startswith("AWS_")}
    env["LOOM_S3_ENDPOINT_URL"] = s3_env["endpoint_url"]
    # the first creates the schema; the second then finds it current
    first = start_server(tmp_path / "a", *args, env=env)
    servers: list[ServerProc] = [first]
    try:
        servers.append(start_server(tmp_path / "b", *args, env=env))
        yield first, servers[1]
    finally:
        for srv in servers:
            srv.stop()
        next(schemas, None)  # drops the schema


class Client:
    """One simulated user: request k goes to server (offset + k) % 2."""

    def __init__(self, urls: tuple[str, str], offset: int, statuses: list[tuple[str, int]]):
        self.urls = urls
        self.https = [httpx.Client(base_url=u + "/api/2.0/mlflow/", timeout=60) for u in urls]
        self.turn = offset
        self.statuses = statuses

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        http = self.https[self.turn % 2]
        self.turn += 1
        r = http.request(method, path, **kw)
        self.statuses.append((f"{method} {path}", r.status_code))  # list.append is atomic
        return r

    def put_artifact(self, path: str, data: bytes) -> int:
        """Upload through the artifact proxy; returns which server took it."""
        which = self.turn % 2
        url = f"{self.urls[which]}{ARTIFACTS}{path}"
        r = self.call("PUT", url, content=data)
        assert r.status_code == 200, r.text
        return which

    def close(self) -> None:
        for http in self.https:
            http.close()

    def experiment(self, name: str) -> str:
        """MLflow's set_experiment: get by name, else create; a lost race reads the winner."""
        r = self.call("GET", "experiments/get-by-name", params={"experiment_name": name})
        if r.status_code == 200:
            return r.json()["experiment"]["experiment_id"]
        assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST", r.text
        r = self.call("POST", "experiments/create", json={"name": name})
        if r.status_code == 200:
            return r.json()["experiment_id"]
        assert r.json()["error_code"] == "RESOURCE_ALREADY_EXISTS", r.text
        r = self.call("GET", "experiments/get-by-name", params={"experiment_name": name})
        assert r.status_code == 200, r.text
        return r.json()["experiment"]["experiment_id"]


def _value(client: int, step: int) -> float:
    return client * 1000 + step / 8  # exact in binary: equality checks are safe


def _notes(client: int) -> bytes:
    return f"notes of client {client}\n".encode() * 500


def _work(
    i: int, urls: tuple[str, str], name: str, start: threading.Barrier, statuses
) -> tuple[str, str, int]:
    c = Client(urls, i, statuses)
    try:
        start.wait()
        exp_id = c.experiment(name)
        r = c.call("POST", "runs/create", json={"experiment_id": exp_id, "run_name": f"c{i}"})
        assert r.status_code == 200, r.text
        rid = r.json()["run"]["info"]["run_id"]
        for b in range(BATCHES):
            metrics = [
                {"key": "loss", "value": _value(i, s), "timestamp": 1000 + s, "step": s}
                for s in range(b * BATCH, (b + 1) * BATCH)
            ]
            r = c.call("POST", "runs/log-batch", json={"run_id": rid, "metrics": metrics})
            assert r.status_code == 200, r.text
        for s in range(BATCHES * BATCH, POINTS):
            point = {"run_id": rid, "key": "loss", "value": _value(i, s), "timestamp": 1000 + s}
            r = c.call("POST", "runs/log-metric", json={**point, "step": s})
            assert r.status_code == 200, r.text
        path = f"{exp_id}/{rid}/artifacts/notes.txt"
        wrote_to = c.put_artifact(path, _notes(i))
        r = c.call("POST", "runs/update", json={"run_id": rid, "status": "FINISHED"})
        assert r.status_code == 200, r.text
        return rid, path, wrote_to
    finally:
        c.close()


def test_two_servers_fifty_clients_one_store(two_servers) -> None:
    a, b = two_servers
    urls = (a.url, b.url)
    name = "scale-" + uuid.uuid4().hex[:8]
    statuses: list[tuple[str, int]] = []
    start = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(_work, i, urls, name, start, statuses) for i in range(CLIENTS)]
        done = [f.result() for f in futures]
    run_ids = [rid for rid, _, _ in done]

    assert not [s for s in statuses if s[1] >= 500], "a server answered 5xx"
    assert len(set(run_ids)) == CLIENTS

    reader = Client(urls, 0, statuses)
    try:
        found = reader.call(
            "POST", "experiments/search", json={"filter": f"name = '{name}'", "view_type": "ALL"}
        ).json()["experiments"]
        assert len(found) == 1, "the get-or-create race made more than one experiment"
        runs = reader.call(
            "POST",
            "runs/search",
            json={"experiment_ids": [found[0]["experiment_id"]], "max_results": 1000},
        ).json()["runs"]
        assert sorted(r["info"]["run_id"] for r in runs) == sorted(run_ids), "duplicate run"
        assert sorted(r["info"]["run_name"] for r in runs) == sorted(f"c{i}" for i in range(50))
        for i, rid in enumerate(run_ids):
            history = reader.call(
                "GET", "metrics/get-history", params={"run_id": rid, "metric_key": "loss"}
            ).json()["metrics"]
            got = sorted((m["step"], m["value"]) for m in history)
            assert got == [(s, _value(i, s)) for s in range(POINTS)], f"points lost in c{i}"
        for i, (_, path, wrote_to) in enumerate(done):  # read through the other server
            r = reader.call("GET", f"{urls[1 - wrote_to]}{ARTIFACTS}{path}")
            assert r.status_code == 200 and r.content == _notes(i), f"artifact of c{i}"
    finally:
        reader.close()
    assert not [s for s in statuses if s[1] >= 500]
    for srv in two_servers:  # both took part in writing
        assert any("/runs/log-metric" in line for line in srv.access_log())
