"""The artifact proxy against hostile paths, other runs' files and uploaded pages.

Requests go through ``http.client`` so that a path reaches the server exactly as
written (httpx would resolve ``..`` segments before sending them).
"""

from __future__ import annotations

import http.client
import json
import os
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def raw(url: str, method: str, path: str, body: bytes | None = None, headers=None):  # type: ignore[no-untyped-def]
    """(status, headers, body) of one request whose path is sent byte for byte."""
    netloc = urlsplit(url).netloc
    conn = http.client.HTTPConnection(netloc, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None and "Content-Length" not in (headers or {}):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def runs(server) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Two experiments, a run with a file in each, one deleted run."""
    import mlflow

    client = mlflow.MlflowClient(server.url)
    out: dict[str, str] = {}
    for key in ("a", "b"):
        exp = client.create_experiment(f"sec-{key}-{uuid.uuid4().hex[:6]}")
        run = client.create_run(exp)
        out[f"exp_{key}"], out[f"run_{key}"] = exp, run.info.run_id
        status, _, _ = raw(
            server.url, "PUT", f"{PROXY}/{exp}/{run.info.run_id}/artifacts/ok.txt", b"fine"
        )
        assert status == 200
    gone = client.create_run(out["exp_a"])
    raw(server.url, "PUT", f"{PROXY}/{out['exp_a']}/{gone.info.run_id}/artifacts/x.txt", b"x")
    client.delete_run(gone.info.run_id)
    out["deleted"] = gone.info.run_id
    return out


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if "mlartifacts" not in p.parts}


BAD = [
    "../../../etc/passwd",
    "sub/../../../../etc/passwd",
    "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "%252e%252e/%252e%252e/etc/passwd",
    "%25252e%25252e/etc/passwd",
    "..\\..\\etc\\passwd",
    "..%5c..%5cetc%5cpasswd",
    "a%00b.txt",
    "a//b.txt",
    "./a.txt",
]
WHOLE = ["/etc/passwd", "%2fetc%2fpasswd", "file:///etc/passwd", "file:%2f%2f%2fetc%2fpasswd"]


def _cases(runs: dict[str, str]) -> list[str]:
    base = f"{runs['exp_a']}/{runs['run_a']}/artifacts/"
    return [base + p for p in BAD] + WHOLE + [f"{runs['exp_a']}/{p}" for p in BAD[:3]]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "LIST", "MLFLOW_LIST"])
def test_hostile_paths_are_refused(server, runs, method: str) -> None:  # type: ignore[no-untyped-def]
    before = _snapshot(server.cwd)
    for bad in _cases(runs):
        if method == "LIST":
            status, _, body = raw(server.url, "GET", f"{PROXY}?path={quote(bad, safe='')}")
        elif method == "MLFLOW_LIST":
            rel = bad.split("/artifacts/", 1)[-1]
            query = f"run_id={runs['run_a']}&path={quote(rel, safe='')}"
            status, _, body = raw(server.url, "GET", f"/api/2.0/mlflow/artifacts/list?{query}")
        else:
            data = b"pwned" if method == "PUT" else None
            status, _, body = raw(server.url, method, f"{PROXY}/{bad}", data)
        assert 400 <= status < 500, (method, bad, status, body)
        assert "error_code" in json.loads(body), (method, bad, body)
    assert _snapshot(server.cwd) == before  # nothing written outside the blob store
    assert not any(server.cwd.parent.rglob("passwd"))


def test_other_experiment_and_deleted_run_are_not_found(server, runs) -> None:  # type: ignore[no-untyped-def]
    a, b = runs["exp_a"], runs["exp_b"]
    crossed = f"{b}/{runs['run_a']}/artifacts/ok.txt"  # run a's file through experiment b
    for method, path in [
        ("GET", f"{PROXY}/{crossed}"),
        ("PUT", f"{PROXY}/{crossed}"),
        ("DELETE", f"{PROXY}/{crossed}"),
        ("GET", f"{PROXY}?path={quote(crossed.rsplit('/', 1)[0])}"),
        ("GET", f"{PROXY}/{a}/{runs['deleted']}/artifacts/x.txt"),
        ("PUT", f"{PROXY}/{a}/{runs['deleted']}/artifacts/y.txt"),
        ("GET", f"{PROXY}?path={a}/{runs['deleted']}/artifacts"),
        ("GET", f"{PROXY}/{a}/{'0' * 32}/artifacts/ok.txt"),
        ("GET", f"{PROXY}/{a}/models/m-{'0' * 32}/artifacts/MLmodel"),
        ("GET", f"{PROXY}/{a}/somewhere/else/ok.txt"),
        ("PUT", f"{PROXY}/{a}/{runs['run_a']}/ok.txt"),
    ]:
        status, _, body = raw(server.url, method, path, b"x" if method == "PUT" else None)
        assert status == 404, (method, path, status, body)
    status, _, body = raw(server.url, "GET", f"{PROXY}/{a}/{runs['run_a']}/artifacts/ok.txt")
    assert (status, body) == (200, b"fine")  # the same file through its own experiment


@pytest.mark.parametrize("name", ["x.html", "x.svg", "x.htm", "x"])
def test_uploaded_page_comes_back_inert(server, runs, name: str) -> None:  # type: ignore[no-untyped-def]
    page = b"<html><script>alert(document.cookie)</script></html>"
    path = f"{PROXY}/{runs['exp_a']}/{runs['run_a']}/artifacts/web/{name}"
    assert raw(server.url, "PUT", path, page, {"Content-Type": "text/html"})[0] == 200
    status, headers, body = raw(server.url, "GET", path)
    assert status == 200 and body == page
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-disposition"].startswith("attachment;")
    assert headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in headers["content-security-policy"]


def test_text_is_plain_text(server, runs) -> None:  # type: ignore[no-untyped-def]
    path = f"{PROXY}/{runs['exp_a']}/{runs['run_a']}/artifacts/ok.txt"
    status, headers, _ = raw(server.url, "GET", path)
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert headers["content-disposition"].startswith("attachment;")


def test_upload_over_the_limit_is_413(server, runs) -> None:  # type: ignore[no-untyped-def]
    path = f"{PROXY}/{runs['exp_a']}/{runs['run_a']}/artifacts/huge.bin"
    status, _, body = raw(server.url, "PUT", path, b"", {"Content-Length": str(6 * 1024**3)})
    assert status == 413, body
    status, _, _ = raw(server.url, "GET", path)
    assert status == 404


def test_delete_artifacts(server, runs) -> None:  # type: ignore[no-untyped-def]
    base = f"{PROXY}/{runs['exp_b']}/{runs['run_b']}/artifacts"
    for rel in ("d/one.txt", "d/two.txt", "d2/three.txt"):
        assert raw(server.url, "PUT", f"{base}/{rel}", os.urandom(8))[0] == 200
    assert raw(server.url, "DELETE", f"{base}/d")[0] == 200
    _, _, body = raw(server.url, "GET", f"{PROXY}?path={runs['exp_b']}/{runs['run_b']}/artifacts")
    assert [f["path"] for f in json.loads(body)["files"]] == ["d2", "ok.txt"]
    assert raw(server.url, "DELETE", f"{base}/d")[0] == 404


def test_a_path_is_a_file_or_a_folder(server, runs) -> None:  # type: ignore[no-untyped-def]
    base = f"{PROXY}/{runs['exp_b']}/{runs['run_b']}/artifacts"
    assert raw(server.url, "PUT", f"{base}/f/inner.txt", b"1")[0] == 200
    status, _, body = raw(server.url, "PUT", f"{base}/f", b"2")  # a folder can't be a file
    assert 400 <= status < 500, body
    status, _, body = raw(
        server.url, "PUT", f"{base}/ok.txt/below.txt", b"3"
    )  # nor a file a folder
    assert 400 <= status < 500, body
