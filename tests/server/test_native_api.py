"""Loom's own API, ``/api/v1``, through Loom's own clients: ``loom.Client(url)``, the
fluent API and the CLI with ``LOOM_TRACKING_URI=http://…``, the registry's alias
history over HTTP, OpenAPI and /docs, and 400s for junk. One server for the module."""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import blake3
import httpx
import pytest

import loom
from loom.errors import AlreadyExistsError, NotFoundError, ValidationError
from loom.tracking.client import Client
from tests.conftest import wait_for
from tests.server.conftest import LOOM, ServerProc


@pytest.fixture
def client(server: ServerProc, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("LOOM_CAPTURE_ENV", "0")  # env capture is tested elsewhere
    with loom.Client(server.url) as c:
        yield c


def test_client_logs_a_run_with_params_metrics_and_artifacts(
    client: Client, tmp_path: Path
) -> None:
    exp = client.get_or_create_experiment("native")
    run = client.create_run(exp.experiment_id, name="first", tags={"team": "search"})
    client.log_params(run.run_id, {"lr": 0.1, "layers": 3})
    for step in range(3):
        client.log_metric(run.run_id, "loss", 1.0 / (step + 1), step=step)
    client.log_metric(run.run_id, "odd", math.nan)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model.txt").write_text("weights\n")
    (tmp_path / "out" / "same.txt").write_text("weights\n")
    client.log_artifacts(run.run_id, tmp_path / "out", "model")
    client.set_terminated(run.run_id)

    got = client.get_run(run.run_id)
    assert got.status == "FINISHED" and got.name == "first" and got.tags["team"] == "search"
    assert got.params == {"lr": "0.1", "layers": "3"}
    assert got.metrics["loss"] == pytest.approx(1 / 3) and math.isnan(got.metrics["odd"])
    assert [m.step for m in client.get_metric_history(run.run_id, "loss")] == [0, 1, 2]
    listed = client.list_artifacts(run.run_id)
    assert sorted(a.path for a in listed) == ["model/model.txt", "model/same.txt"]
    assert len({a.hash for a in listed}) == 1  # stored once
    dst = client.download_artifacts(run.run_id, "model", tmp_path / "back")
    assert (dst / "model.txt").read_text() == "weights\n"
    found = client.search_runs([exp.experiment_id], "metrics.loss < 0.5 and params.lr = '0.1'")
    assert [r.run_id for r in found.items] == [run.run_id]
    with pytest.raises(AlreadyExistsError):
        client.create_experiment("native")
    with pytest.raises(NotFoundError, match="No run"):
        client.get_run("0" * 32)


def test_fluent_api_with_an_http_tracking_uri(
    server: ServerProc, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loom.tracking import fluent

    monkeypatch.setenv("LOOM_TRACKING_URI", server.url)
    monkeypatch.setenv("LOOM_CAPTURE_ENV", "0")
    fluent.set_tracking_uri(None)
    try:
        loom.set_experiment("fluent")
        with loom.start_run("fluent-run") as active:
            loom.log_param("batch", 32)
            loom.log_metrics({"acc": 0.9, "f1": 0.8}, step=1)
            loom.set_tag("kind", "smoke")
        run_id = active.run_id
    finally:
        fluent._runs.clear()
        fluent.set_tracking_uri(None)
    with Client(server.url) as c:
        got = c.get_run(run_id)
    assert (got.status, got.params, got.metrics) == (
        "FINISHED",
        {"batch": "32"},
        {"acc": 0.9, "f1": 0.8},
    )
    assert got.tags["kind"] == "smoke"


def test_runs_list_cli_against_the_server(
    client: Client, server: ServerProc, tmp_path: Path
) -> None:
    exp = client.get_or_create_experiment("cli")
    run = client.create_run(exp.experiment_id, name="listed")
    client.log_metric(run.run_id, "acc", 0.75)
    client.flush()
    env = {**os.environ, "LOOM_TRACKING_URI": server.url, "XDG_DATA_HOME": str(tmp_path)}
    done = subprocess.run(
        [LOOM, "runs", "list", "-e", "cli", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [(r["run_id"], r["metrics"]["acc"]) for r in listed["runs"]] == [(run.run_id, 0.75)]


def test_registry_alias_history_and_at_over_http(
    client: Client, server: ServerProc, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from loom.cli.main import run as loom_run

    for i in (1, 2):
        client.create_model_version("ranker", f"src{i}", f"{i:064x}", semver=f"1.{i}.0")
    monkeypatch.setenv("LOOM_TRACKING_URI", server.url)

    def cli(*args: str) -> str:
        capsys.readouterr()
        code = loom_run(list(args))
        out = capsys.readouterr()
        assert code == 0, out.err
        return out.out

    cli("models", "promote", "ranker", "1", "--alias", "production", "--comment", "first")
    between = client.get_alias_history("ranker")[-1].time
    wait_for(lambda: time.time() * 1000 > between + 1, what="the clock to pass the first move")
    cli("models", "promote", "ranker", "2", "--alias", "production")
    history = json.loads(cli("models", "history", "ranker", "--json"))
    assert [(e["from_version"], e["to_version"]) for e in history] == [(None, 1), (1, 2)]
    assert history[0]["comment"] == "first"
    assert client.get_model_version_at("ranker", "production", between).version == 1
    now = json.loads(cli("models", "history", "ranker", "--at", "2999-01-01", "--json"))
    assert now["aliases"] == {"production": 2}
    assert client.get_aliases_at("ranker", between - 1) == {}
    assert client.get_model_version_by_alias("ranker", "production").semver == "1.2.0"
    with pytest.raises(ValidationError, match="reserved"):
        client.set_registered_model_alias("ranker", "latest", 1)


def test_openapi_lists_every_call_and_docs_serve_html(server: ServerProc) -> None:
    from loom.api.routes import OBJECT, PREFIX, ROUTES

    spec = httpx.get(server.url + "/api/v1/openapi.json").json()
    assert {PREFIX + r.path for r in ROUTES.values()} | {PREFIX + OBJECT} <= spec["paths"].keys()
    create = spec["paths"]["/api/v1/runs/create"]["post"]
    assert "requestBody" in create and create["summary"] == "Create run"
    docs = httpx.get(server.url + "/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]


@pytest.mark.parametrize(
    ("method", "path", "body", "needle"),
    [
        ("POST", "/runs/log-batch", b"{not json", "Invalid request"),
        ("POST", "/runs/log-batch", b'{"run_id": 5, "metrics": "x"}', "metrics"),
        ("POST", "/runs/search", b"[]", "Invalid request"),
        ("GET", "/metrics/history?run_id=r&key=k&max_points=many", None, "max_points"),
        ("GET", "/experiments/list?view=sideways", None, "view"),
        ("POST", "/runs/update", b'{"run_id": "%s", "end_time": 1e400}' % (b"0" * 32), "end_time"),
        ("POST", "/objects/missing", b'{"oids": ["../etc"]}', "not an object id"),
        ("PUT", "/objects/" + "0" * 64, b"bytes", "hash"),
        ("GET", "/objects/ZZ", None, "not an object id"),
    ],
)
def test_junk_input_is_a_400_with_an_error_body(
    server: ServerProc, method: str, path: str, body: bytes | None, needle: str
) -> None:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    r = httpx.request(method, server.url + "/api/v1" + path, content=body, headers=headers)
    assert r.status_code == 400, r.text
    doc = r.json()
    assert doc["error_code"] == "INVALID_PARAMETER_VALUE" and needle in doc["message"], doc
    assert "Traceback" not in r.text


def test_a_json_body_over_the_limit_is_a_413(server: ServerProc) -> None:
    from loom.server.http import MAX_JSON_BODY

    huge = b'{"oids": ["' + b"a" * MAX_JSON_BODY + b'"]}'
    r = httpx.post(server.url + "/api/v1/objects/missing", content=huge,
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 413 and r.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"

    def chunked():  # no Content-Length: counted as it arrives
        yield huge

    r = httpx.post(server.url + "/api/v1/objects/missing", content=chunked(),
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 413 and r.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"


def test_integers_past_64_bits_are_a_400(client: Client, server: ServerProc) -> None:
    run = client.create_run(client.get_or_create_experiment("big").experiment_id)
    for call, body in [
        ("update", {"run_id": run.run_id, "end_time": 10**30}),
        ("log-artifacts", {"run_id": run.run_id,
                           "artifacts": [{"path": "x", "hash": "a" * 64, "size": 10**30}]}),
    ]:  # fmt: skip
        r = httpx.post(f"{server.url}/api/v1/runs/{call}", json=body)
        assert r.status_code == 400 and "64 bits" in r.json()["message"], r.text
    assert client.get_run(run.run_id).end_time is None and client.list_artifacts(run.run_id) == []


def test_objects_upload_only_what_is_missing(server: ServerProc) -> None:
    data = os.urandom(64)
    oid = blake3.blake3(data).hexdigest()
    api = server.url + "/api/v1/objects"
    assert httpx.post(api + "/missing", json={"oids": [oid]}).json() == {"missing": [oid]}
    assert httpx.put(f"{api}/{oid}", content=data).json() == {"oid": oid, "size": 64}
    assert httpx.post(api + "/missing", json={"oids": [oid]}).json() == {"missing": []}
    assert httpx.get(f"{api}/{oid}").content == data
    gone = httpx.get(f"{api}/{'f' * 64}")
    assert gone.status_code == 404 and gone.json()["error_code"] == "MISSING_OBJECT"
    assert httpx.get(server.url + "/api/v1/nope").json()["error_code"] == "ENDPOINT_NOT_FOUND"


class Halver:
    """A generic-flavor model (importable from this module, so it pickles)."""

    def predict(self, data):  # type: ignore[no-untyped-def]
        return [x / 2 for x in data]


def test_a_model_logged_over_http_loads_from_another_cache(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loom.registry import api

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "logger"))
    run = client.create_run(client.get_or_create_experiment("models").experiment_id)
    info = api.log_model(Halver(), "model", registered_model_name="halver", client=client,
                         run_id=run.run_id)  # fmt: skip
    assert info.registered_model_version is not None
    client.set_registered_model_alias("halver", "production", info.registered_model_version.version)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "loader"))  # nothing cached here
    with Client(client.tracking_uri) as other:
        loaded = api.load_model("models:/halver@production", client=other, trusted=True)
    assert loaded.predict([2, 4]) == [1, 2]
    assert list((tmp_path / "loader").rglob("model.pkl"))  # downloaded and verified


def test_every_error_code_comes_back_as_its_class() -> None:
    from loom import errors
    from loom.api.errors import error_classes, error_from_body

    table = error_classes()
    for cls in table.values():
        got = error_from_body(
            cls.http_status, {"error_code": cls.code, "message": "m", "hint": "h"}
        )
        assert type(got) is cls and (got.message, got.hint) == ("m", "h")
    assert table["INVALID_PARAMETER_VALUE"] is errors.ValidationError
    assert {"RESOURCE_DOES_NOT_EXIST", "INVALID_STATE", "MISSING_OBJECT"} <= table.keys()
    odd = error_from_body(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "no"})
    assert isinstance(odd, errors.NotFoundError) and odd.code == "ENDPOINT_NOT_FOUND"
    assert error_from_body(502, "<html>").message == "The server answered HTTP 502."


def test_every_backend_method_is_one_call_with_the_same_signature() -> None:
    import inspect

    from loom.api.routes import ROUTES
    from loom.tracking.backend import Backend
    from loom.tracking.http_backend import HttpBackend

    bytes_and_lifecycle = {
        "put_files",
        "put_bytes",
        "get_file",
        "fetch_missing",
        "close",
        "upgrade",
    }
    assert ROUTES.keys() == Backend.__abstractmethods__ - bytes_and_lifecycle
    for name in ROUTES:
        assert inspect.signature(getattr(HttpBackend, name)) == inspect.signature(
            getattr(Backend, name)
        ), name
    assert not HttpBackend.__abstractmethods__


def test_credentials_come_from_loom_then_mlflow_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    from loom.tracking.http_backend import HttpBackend

    for var in ("TOKEN", "USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"LOOM_TRACKING_{var}", raising=False)
        monkeypatch.delenv(f"MLFLOW_TRACKING_{var}", raising=False)

    def sent() -> str | None:
        request = httpx.Request("GET", "http://x/")
        auth = HttpBackend("http://x").http.auth
        return None if auth is None else next(auth.auth_flow(request)).headers["Authorization"]

    assert sent() is None
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ann")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pw")
    assert sent() == "Basic " + base64.b64encode(b"ann:pw").decode()
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "mlflow-token")
    assert sent() == "Bearer mlflow-token"
    monkeypatch.setenv("LOOM_TRACKING_TOKEN", "loom-token")
    assert sent() == "Bearer loom-token"
