"""The registry with auth on: READ/EDIT/MANAGE per registered model, and a version's
source readable by its registrant (no registering another team's run files).

Raw HTTP with basic auth; users and grants are written straight into the store.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from loom.server.services import check_schema
from loom.store import Store
from tests.server.conftest import ServerProc, cheap_hash, start_server
from tests.server.registry_files import log_files, store_tree

PASSWORDS = {"alice": "alice-secret-1", "bob": "bob-secret-1"}
API = "/api/2.0/mlflow/"


@dataclass
class Files:
    """Alice's: an experiment, a run with model/ files, a logged model of the same files,
    and a registered model whose version 1 is the run's."""

    exp: str
    run: str
    model_id: str
    model: str


@dataclass
class Team:
    proc: ServerProc
    store: Store

    def alices(self) -> Files:
        """Fresh files of alice's, so each test sets its own grants on its own things."""
        tag = uuid.uuid4().hex[:6]
        exp = self.ok("POST", "experiments/create", "alice", json={"name": f"exp-{tag}"})
        eid = exp["experiment_id"]
        run = self.ok("POST", "runs/create", "alice", json={"experiment_id": eid})
        rid = run["run"]["info"]["run_id"]
        tree = log_files(self.proc.cwd, self.store, rid, {"model/MLmodel": tag.encode()})
        store_tree(self.proc.cwd, tree)
        lm = self.store.create_logged_model(eid, "model", tree.oid, "x", run_id=rid)
        model = f"alice-{tag}"
        self.ok("POST", "registered-models/create", "alice", json={"name": model})
        version = {"name": model, "source": f"runs:/{rid}/model"}
        self.ok("POST", "model-versions/create", "alice", json=version)
        return Files(eid, rid, lm.model_id, model)

    def call(self, method: str, path: str, who: str, **kw: Any) -> httpx.Response:
        auth = (who, PASSWORDS[who])
        return httpx.request(method, self.proc.url + API + path, auth=auth, timeout=30, **kw)

    def ok(self, method: str, path: str, who: str, **kw: Any) -> dict[str, Any]:
        r = self.call(method, path, who, **kw)
        assert r.status_code == 200, r.text
        return r.json()

    def denied(self, method: str, path: str, who: str, **kw: Any) -> None:
        r = self.call(method, path, who, **kw)
        assert r.status_code == 403, r.text
        assert r.json()["error_code"] == "PERMISSION_DENIED"


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    tmp = tmp_path_factory.mktemp("registry-auth")
    uri = f"sqlite:///{tmp / 'loom.db'}"
    store = Store(uri)
    check_schema(store, upgrade=False)
    for name, password in PASSWORDS.items():
        store.create_user(name, cheap_hash(password))
    proc = start_server(tmp, "--backend-store-uri", uri)  # users exist: auth is on
    try:
        yield Team(proc, store)
    finally:
        store.close()
        proc.stop()


def test_default_read_lets_others_look_but_not_change(team: Team) -> None:
    t = team
    f = t.alices()
    m = {"name": f.model}
    assert t.ok("GET", "registered-models/get", "bob", params=m)["registered_model"]["name"]
    version = t.ok("GET", "model-versions/get", "bob", params={**m, "version": "1"})
    assert version["model_version"]["user_id"] == "alice"  # who registered it
    t.denied("POST", "registered-models/alias", "bob", json={**m, "alias": "x", "version": "1"})
    t.denied("POST", "registered-models/set-tag", "bob", json={**m, "key": "k", "value": "v"})
    source = f"runs:/{f.run}/model"
    t.denied("POST", "model-versions/create", "bob", json={**m, "source": source})
    t.denied("DELETE", "registered-models/delete", "bob", json=m)
    t.denied("POST", "registered-models/rename", "bob", json={**m, "new_name": "mine"})
    t.denied("DELETE", "model-versions/delete", "bob", json={**m, "version": "1"})


def test_no_registering_files_one_may_not_read(team: Team) -> None:
    t = team
    f = t.alices()
    t.store.set_permission("bob", "experiment", f.exp, "NO_PERMISSIONS")
    own = f"bob-{uuid.uuid4().hex[:6]}"
    t.ok("POST", "registered-models/create", "bob", json={"name": own})  # bob: MANAGE
    for source in (
        f"runs:/{f.run}/model",
        f"mlflow-artifacts:/{f.exp}/{f.run}/artifacts/model",
        f"models:/{f.model_id}",
        f"mlflow-artifacts:/{f.exp}/models/{f.model_id}/artifacts",
    ):
        t.denied("POST", "model-versions/create", "bob", json={"name": own, "source": source})
    # a copy of alice's version needs READ on her model
    t.store.set_permission("bob", "model", f.model, "NO_PERMISSIONS")
    copy = {"name": own, "source": f"models:/{f.model}/1"}
    t.denied("POST", "model-versions/create", "bob", json=copy)
    found = t.ok("GET", "model-versions/search", "bob", params={"filter": f"name='{own}'"})
    assert found.get("model_versions", []) == []


def test_search_shows_only_readable_models(team: Team) -> None:
    t = team
    f = t.alices()
    t.store.set_permission("bob", "model", f.model, "NO_PERMISSIONS")
    named = {"filter": f"name LIKE '{f.model[:10]}%'"}
    assert t.ok("GET", "registered-models/search", "alice", params=named)["registered_models"]
    assert t.ok("GET", "registered-models/search", "bob", params=named) == {"registered_models": []}
    t.denied("GET", "registered-models/get", "bob", params={"name": f.model})
    by_run = {"filter": f"run_id = '{f.run}'"}
    assert t.ok("GET", "model-versions/search", "alice", params=by_run)["model_versions"]
    assert t.ok("GET", "model-versions/search", "bob", params=by_run) == {"model_versions": []}


def test_grants_follow_a_rename_and_alias_moves_name_their_user(team: Team) -> None:
    t = team
    name = t.alices().model
    t.store.set_permission("bob", "model", name, "EDIT")
    t.ok("POST", "registered-models/rename", "alice", json={"name": name, "new_name": name + "2"})
    alias = {"name": name + "2", "alias": "champion", "version": "1"}
    t.ok("POST", "registered-models/alias", "bob", json=alias)  # EDIT came along
    t.denied("DELETE", "registered-models/delete", "bob", json={"name": name + "2"})
    [event] = t.store.get_alias_history(name + "2", "champion")
    assert (event.user, event.to_version) == ("bob", 1)
