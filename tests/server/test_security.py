"""Attacks in raw HTTP against a real ``loom server``: DNS rebinding, CSRF, unbounded
input, malformed input (a fuzz loop over every endpoint), reflected XSS."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.server.conftest import ServerProc, start_server

API = "/api/2.0/mlflow/"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    proc = start_server(tmp_path_factory.mktemp("security"), "--allowed-hosts", "loom.internal")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def run_id(srv: ServerProc) -> str:
    eid = _post(srv, "experiments/create", {"name": "sec-" + uuid.uuid4().hex[:8]}).json()
    run = _post(srv, "runs/create", {"experiment_id": eid["experiment_id"]}).json()
    return run["run"]["info"]["run_id"]


def _post(srv: ServerProc, path: str, doc: object, **kw) -> httpx.Response:
    return httpx.post(srv.url + API + path, json=doc, timeout=30, **kw)


def _search(srv: ServerProc, **headers: str) -> httpx.Response:
    return httpx.get(srv.url + API + "experiments/search", headers=headers, timeout=30)


def _port(srv: ServerProc) -> int:
    return int(urlsplit(srv.url).port or 0)


def test_host_header_against_dns_rebinding(srv: ServerProc) -> None:
    refused = _search(srv, Host="evil.example")
    assert refused.status_code == 403 and refused.json()["error_code"] == "PERMISSION_DENIED"
    assert _search(srv, Host=f"evil.example:{_port(srv)}").status_code == 403
    assert _search(srv, Host=f"127.0.0.1:{_port(srv)}").status_code == 200
    assert _search(srv, Host=f"localhost:{_port(srv)}").status_code == 200
    assert _search(srv, Host="loom.internal").status_code == 200  # --allowed-hosts
    assert _search(srv, Host="LOOM.internal:80").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"content": b'{"name": "x"}', "headers": {"Content-Type": "text/plain"}},
        {"data": {"name": "x"}},  # a form
        {"files": {"name": ("x", b"x")}},  # multipart
        {"content": b'{"name": "x"}'},  # a page may send a body with no type at all
    ],
    ids=["text-plain", "form", "multipart", "no-content-type"],
)
def test_csrf_simple_bodies_are_refused(srv: ServerProc, body: dict) -> None:
    if "content" in body and "headers" not in body:
        body = {**body, "headers": {"Content-Type": ""}}
    r = httpx.post(srv.url + API + "experiments/create", timeout=30, **body)
    assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED"


def test_csrf_foreign_origin_and_fetch_metadata_are_refused(srv: ServerProc) -> None:
    def create(**headers: str) -> int:
        name = "csrf-" + uuid.uuid4().hex[:8]
        return _post(srv, "experiments/create", {"name": name}, headers=headers).status_code

    port = _port(srv)
    assert create(Origin="http://evil.example") == 403
    assert create(Origin="null") == 403
    assert create(Origin=f"http://127.0.0.1:{port + 1}") == 403  # another site on this machine
    assert create(**{"Sec-Fetch-Site": "cross-site"}) == 403
    assert create(**{"Sec-Fetch-Site": "same-site"}) == 403
    assert create(Origin=f"http://127.0.0.1:{port}", **{"Sec-Fetch-Site": "same-origin"}) == 200
    assert create() == 200  # a client that is no browser
    # a write without a body needs no Content-Type (it reaches the handler: a 400 here)
    bodiless = httpx.delete(srv.url + API + "users/delete", timeout=30)
    assert bodiless.status_code == 400 and "username" in bodiless.json()["message"]


def test_body_over_the_limit_is_413_before_it_is_read(srv: ServerProc) -> None:
    """The server answers after the headers: the 17 MiB the request announces never come."""
    host, port = "127.0.0.1", _port(srv)
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall(
            f"POST {API}runs/log-batch HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 17825792\r\n\r\n{".encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            assert chunk, "the server closed without answering"
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413")


def test_mlflow_size_limits_are_400(srv: ServerProc, run_id: str) -> None:
    def status(path: str, doc: dict) -> int:
        return _post(srv, path, doc).status_code

    assert status("runs/log-parameter", {"run_id": run_id, "key": "p", "value": "v" * 6001}) == 400
    assert status("runs/log-parameter", {"run_id": run_id, "key": "k" * 251, "value": "v"}) == 400
    assert status("runs/log-parameter", {"run_id": run_id, "key": "ok", "value": "v" * 6000}) == 200
    metrics = [{"key": "m", "value": 1.0, "timestamp": 1, "step": i} for i in range(1001)]
    assert status("runs/log-batch", {"run_id": run_id, "metrics": metrics}) == 400
    assert status("experiments/search", {"max_results": 50001}) == 400
    assert status("runs/search", {"experiment_ids": ["0"], "max_results": 50001}) == 400


def _junk_docs(run_id: str, turn: int) -> list[bytes]:
    """Bodies no client should send: broken JSON, wrong types, huge numbers, NaN in
    odd places, lone surrogates, NULs and control characters."""
    raw = [
        b"{",
        b"[]",
        b'"x"',
        b"null",
        b"\xff\xfe{}",
        b'{"a": 1e999}',
        b'{"max_results": 1e999, "experiment_ids": ["0"]}',
        b'{"run_id": NaN, "value": NaN, "experiment_id": Infinity}',
        b'{"run_id": "' + run_id.encode() + b'", "key": "\\ud800", "value": "\\udfff"}',
        b'{"name": "\\u0000\\u0001", "experiment_id": "\\u0000"}',
        b'{"experiment_id": "1\\u0000", "run_id": "\\ud83d"}',
        b"[" * 100_000 + b"]" * 100_000,  # deeper than Python's stack: a RecursionError
        b'{"run_id": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001,
    ]
    values: list[object] = [
        {"x": [1]},
        [None],
        10**40,
        -(10**40),
        True,
        "\u202e\u0000\u00ff" * 50,
        "x" * 70_000,
        "../../etc/passwd",
        "²",
        "attribute.experiment_id = '²' OR metrics.m > 1e999 AND params.p LIKE '%\u0001'",
    ]
    fields = ["experiment_id", "run_id", "name", "key", "value", "timestamp", "step"]
    fields += ["max_results", "page_token", "filter", "order_by", "metrics", "tags", "params"]
    fields += ["experiment_ids", "new_name", "status", "end_time", "datasets", "view_type"]
    import json

    docs = [json.dumps({f: v for f in fields}).encode() for v in values]
    # one junk field next to a real run: which junk value each field gets turns with
    # the endpoint (``turn``), so the loop covers every pair without sending them all
    docs += [
        json.dumps({"run_id": run_id, f: values[(i + turn) % len(values)]}).encode()
        for i, f in enumerate(fields)
    ]
    return raw + docs


def test_junk_bodies_on_every_endpoint_never_get_a_5xx(srv: ServerProc, run_id: str) -> None:
    from loom.server.auth import api as auth_api
    from loom.server.mlflow import artifact_endpoints, endpoints

    table = [(e, API) for e in [*endpoints(), *auth_api.endpoints()]]
    table += [(e, "/api/2.0/mlflow-artifacts/") for e in artifact_endpoints()]
    table += [(e, "/api/3.0/mlflow/") for e in auth_api.v3_endpoints()]
    failures = []
    with httpx.Client(base_url=srv.url, timeout=30) as client:
        for turn, (endpoint, prefix) in enumerate(table):
            docs = _junk_docs(run_id, turn)
            path = prefix + endpoint.path.replace("{path}", "0/x").replace("{", "").replace("}", "")
            for doc in docs if endpoint.method != "GET" else docs[:1]:
                r = client.request(
                    endpoint.method, path, content=doc, headers={"Content-Type": "application/json"}
                )
                if r.status_code >= 500:
                    failures.append((endpoint.method, path, doc[:120], r.status_code, r.text))
            if endpoint.method == "GET":
                for query in _junk_queries(run_id):
                    r = client.get(path + "?" + query)
                    if r.status_code >= 500:
                        failures.append(("GET", path, query[:120], r.status_code, r.text))
    assert not failures, failures[:5]


def _junk_queries(run_id: str) -> list[str]:
    """Query strings, percent-encoded as sent: NULs, bytes that are no UTF-8, a lone
    surrogate's bytes, huge numbers, long values, traversal."""
    keys = ["experiment_id", "run_id", "run_uuid", "experiment_name", "max_results"]
    keys += ["metric_key", "page_token", "username", "resource_type", "resource_id", "path"]
    keys += ["filter", "view_type", "order_by"]
    values = ["", "%00", "%ED%B3%BF", "%FF%FE", "9" * 40, "-1", "x" * 2000, "..%2F..%2Fx"]
    values += ["%C2%B2", "%D9%A7"]  # "²" and "٧": digits to str.isdigit(), not to int()
    return ["&".join(f"{k}={v}" for k in keys) for v in [*values, run_id]]


def test_reflected_xss_comes_back_as_json_with_nosniff(srv: ServerProc) -> None:
    script = "<script>alert(document.cookie)</script>"
    r = httpx.get(
        srv.url + API + "experiments/get-by-name", params={"experiment_name": script}, timeout=30
    )
    assert r.status_code == 404 and script in r.json()["message"]
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-content-type-options"] == "nosniff"
    missing = httpx.get(srv.url + API + script, timeout=30)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json"
    assert missing.headers["x-content-type-options"] == "nosniff"
