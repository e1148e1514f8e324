"""A model version's ``source`` can't make the server read what it shouldn't.

MLflow's file-inclusion CVEs (CVE-2023-1177, CVE-2023-2780, CVE-2024-0520) came
from sources naming server paths, URLs, ``..`` or another run's artifacts. Here
each such source is a 400 INVALID_PARAMETER_VALUE and registers nothing.
Raw HTTP, so nothing in a client can tidy the request first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from loom.store import Store
from tests.server.registry_files import log_files, server_store, store_tree

API = "/api/2.0/mlflow/"


@dataclass
class Setup:
    url: str
    cwd: Path
    store: Store
    exp: str  # experiment of `run`
    other_exp: str
    run: str  # logged model/ files
    other_run: str  # in other_exp, with model/ files too
    model_id: str  # a finalized logged model of `run`
    name: str  # a registered model with no versions

    def post(self, path: str, body: Any) -> httpx.Response:
        return httpx.post(self.url + API + path, json=body, timeout=10)

    def register(self, source: Any, **extra: Any) -> httpx.Response:
        return self.post("model-versions/create", {"name": self.name, "source": source, **extra})


@pytest.fixture(scope="module")
def setup(server) -> Iterator[Setup]:  # type: ignore[no-untyped-def]
    def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = httpx.post(server.url + API + path, json=body, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    store = server_store(server.cwd)
    exps = [call("experiments/create", {"name": f"sec-{uuid.uuid4().hex[:8]}"}) for _ in range(2)]
    exp, other_exp = (e["experiment_id"] for e in exps)
    run = call("runs/create", {"experiment_id": exp})["run"]["info"]["run_id"]
    other = call("runs/create", {"experiment_id": other_exp})["run"]["info"]["run_id"]
    tree = log_files(server.cwd, store, run, {"model/MLmodel": b"a", "notes.txt": b"n"})
    log_files(server.cwd, store, other, {"model/MLmodel": b"secret"})
    store_tree(server.cwd, tree)
    lm = store.create_logged_model(exp, "model", tree.oid, "sklearn", run_id=run)
    name = f"sec-{uuid.uuid4().hex[:8]}"
    call("registered-models/create", {"name": name})
    yield Setup(server.url, server.cwd, store, exp, other_exp, run, other, lm.model_id, name)
    store.close()


def _refused(r: httpx.Response, status: int = 400, code: str = "INVALID_PARAMETER_VALUE") -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error_code"] == code, body
    assert "Traceback" not in r.text
    return str(body["message"])


def _no_versions(s: Setup) -> None:
    r = httpx.get(
        s.url + API + "model-versions/search", params={"filter": f"name = '{s.name}'"}, timeout=10
    )
    assert r.status_code == 200 and r.json().get("model_versions", []) == [], r.text


def test_sources_outside_the_server_are_refused(setup: Setup) -> None:
    s = setup
    for source in (
        "file:///etc/passwd",
        "/etc/passwd",
        f"file://{s.cwd}/loom.db",
        str(s.cwd / "mlartifacts"),
        "mlartifacts/blake3",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/model.tar.gz",
        "s3://someone-elses-bucket/model",
        "gs://bucket/model",
        "dbfs:/databricks/model",
        "hdfs://namenode/model",
        "ftp://example.com/model",
        "mlflow-artifacts://evil.example.com/1/x/artifacts/model",
        "models:/",
        "runs:/",
        "",
        "   ",
    ):
        _refused(s.register(source))
    _no_versions(s)


def test_traversal_in_any_spelling_is_refused(setup: Setup) -> None:
    s = setup
    for source in (
        f"runs:/{s.run}/../{s.other_run}/model",
        f"runs:/{s.run}/model/../../../etc/passwd",
        f"runs:/{s.run}/./model",
        f"runs:/{s.run}//model",
        f"runs:/{s.run}/%2e%2e/%2e%2e/etc/passwd",
        f"runs:/{s.run}/%252e%252e/model",
        f"runs:/{s.run}/model%2F..%2F..",
        f"runs:/{s.run}/model\\..\\..\\x",
        f"runs:/{s.run}/model\x00.txt",
        f"runs:/{s.run}/model?path=../../x",
        f"runs:/{s.run}/model#../x",
        f"runs:/../{s.run}/model",
        f"mlflow-artifacts:/{s.exp}/{s.run}/artifacts/../../{s.other_exp}/{s.other_run}/model",
        f"mlflow-artifacts:/{s.exp}/{s.run}/artifacts/model/../../../../../etc/passwd",
        f"mlflow-artifacts:/{s.exp}/../{s.other_exp}/{s.other_run}/artifacts/model",
        f"mlflow-artifacts:/{s.exp}/models/{s.model_id}/artifacts/../../x",
        f"mlflow-artifacts:/{s.exp}/{s.run}/artifacts",
        f"models:/{s.model_id}/../x",
    ):
        _refused(s.register(source))
    _no_versions(s)


def test_another_runs_files_are_refused(setup: Setup) -> None:
    s = setup
    # the source names one run, the request claims another
    _refused(s.register(f"runs:/{s.other_run}/model", run_id=s.run))
    # the path claims the run is in an experiment it is not in
    _refused(s.register(f"mlflow-artifacts:/{s.exp}/{s.other_run}/artifacts/model"))
    _refused(s.register(f"mlflow-artifacts:/{s.other_exp}/models/{s.model_id}/artifacts"))
    # a logged model that isn't the one the request names
    other_id = "m-" + uuid.uuid4().hex
    _refused(s.register(f"models:/{s.model_id}", model_id=other_id))
    _refused(s.register(f"runs:/{s.run}/model", model_id=s.model_id))
    # a path with no files under it, a single file, a run or model that doesn't exist
    _refused(s.register(f"runs:/{s.run}/nothing-here"))
    _refused(s.register(f"runs:/{s.run}/notes.txt"))
    _refused(s.register(f"runs:/{s.run[:8]}/model"))  # prefixes are a CLI convenience
    _refused(s.register(f"runs:/{'0' * 32}/model"), 404, "RESOURCE_DOES_NOT_EXIST")
    _refused(s.register(f"models:/{other_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    _no_versions(s)


def test_an_unfinished_logged_model_is_refused(setup: Setup) -> None:
    s = setup
    # what a logged model is while an MLflow client uploads its files
    lm = s.store.create_logged_model(
        s.exp, "pending", "", "sklearn", run_id=s.run, status="PENDING"
    )
    assert "not finalized" in _refused(s.register(f"models:/{lm.model_id}"))
    tree = s.store.get_logged_model(s.model_id).tree
    gone = s.store.create_logged_model(s.exp, "gone", tree, "sklearn", run_id=s.run)
    s.store.delete_logged_model(gone.model_id)  # deleted: gone, as in MLflow
    _refused(s.register(f"models:/{gone.model_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    _no_versions(s)


def test_malformed_fields_are_400s_not_500s(setup: Setup) -> None:
    s = setup
    for body in (
        {"name": s.name, "source": ["runs:/x/model"]},
        {"name": s.name, "source": {"path": "/etc/passwd"}},
        {"name": s.name, "source": 12},
        {"name": s.name},
        {"name": ["x"], "source": f"runs:/{s.run}/model"},
        {"name": s.name, "source": f"runs:/{s.run}/model", "tags": "x"},
        {"name": s.name, "source": f"runs:/{s.run}/model", "run_id": {"a": 1}},
    ):
        _refused(s.post("model-versions/create", body))
    _refused(s.post("model-versions/create", [1, 2]))
    for params in (
        {"name": s.name, "version": "1/../2"},
        {"name": s.name, "version": "-1"},
        {"name": s.name, "version": "99999999999999999999"},
        {"name": "a/b", "version": "1"},
    ):
        r = httpx.get(s.url + API + "model-versions/get", params=params, timeout=10)
        _refused(r)
    r = httpx.get(s.url + API + "registered-models/search", params={"max_results": "0"})
    _refused(r)
    for token in ("x", "²", "-1"):
        r = httpx.get(s.url + API + "registered-models/search", params={"page_token": token})
        _refused(r)
    for params in (
        {"filter": "name = 'a' OR"},
        {"filter": "version_number > 'x'"},
        {"filter": "name < 'b'"},
        {"filter": "run_id = 5"},
        {"filter": "params.lr = '1'"},
        {"order_by": "run_id"},
        {"order_by": "source_path DESC"},
        {"order_by": "tags.x"},
        {"max_results": "200001"},
    ):
        _refused(httpx.get(s.url + API + "model-versions/search", params=params))
    for params in ({"filter": "tags.x < 'a'"}, {"filter": "version_number IN (1, 2)"}):
        r = httpx.get(s.url + API + "model-versions/search", params=params)
        assert r.status_code == 200, r.text
    # a deleting call is not reachable by GET (a link or an <img> can't delete)
    r = httpx.get(s.url + API + "registered-models/delete", params={"name": s.name})
    assert r.status_code == 405
    _no_versions(s)


def test_good_sources_still_register(setup: Setup) -> None:
    """The guard refuses only what it must: each accepted form registers the same files."""
    s = setup
    name = f"ok-{uuid.uuid4().hex[:8]}"
    assert s.post("registered-models/create", {"name": name}).status_code == 200
    sources = (
        f"runs:/{s.run}/model",
        f"runs:/{s.run}/model/",
        f"mlflow-artifacts:/{s.exp}/{s.run}/artifacts/model",
        f"models:/{s.model_id}",
        f"mlflow-artifacts:/{s.exp}/models/{s.model_id}/artifacts",
    )
    for source in sources:
        r = s.post("model-versions/create", {"name": name, "source": source, "run_id": s.run})
        assert r.status_code == 200, (source, r.text)
        assert r.json()["model_version"]["version"] in ("1", "2")
    # the run's files and the logged model are one tree: one version (Loom registers a tree once)
    assert {v.tree for v in s.store.list_model_versions(name)} == {
        s.store.get_logged_model(s.model_id).tree
    }


def test_not_found_names_no_other_model(setup: Setup) -> None:
    """The store's hint lists existing models (handy locally); a server's 404 must not."""
    s = setup
    for path in ("registered-models/get", "registered-models/get-latest-versions"):
        r = httpx.get(s.url + API + path, params={"name": "sec-unknown"}, timeout=10)
        _refused(r, 404, "RESOURCE_DOES_NOT_EXIST")
        assert s.name not in r.text
