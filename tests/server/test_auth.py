"""Auth against a real ``loom server``: basic, bearer and token-as-password, the real
mlflow client, READ/EDIT/MANAGE, admins, and changes that take effect at once."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from loom.server.auth import tokens
from loom.server.services import check_schema
from loom.store import Store
from tests.conftest import wait_for
from tests.server.conftest import ServerProc, cheap_hash, launch, start_server

PASSWORDS = {"root": "root-secret-1", "alice": "alice-secret-1", "bob": "bob-secret-1"}
API = "/api/2.0/mlflow/"


class AuthServer:
    def __init__(self, proc: ServerProc, uri: str) -> None:
        self.proc, self.url, self.uri = proc, proc.url, uri
        self.store = Store(uri)

    def call(
        self, method: str, path: str, who: str | tuple[str, str] | None = None, **kw
    ) -> httpx.Response:
        auth = (who, PASSWORDS[who]) if isinstance(who, str) else who
        prefix = "" if path.startswith("/") else API
        return httpx.request(method, self.url + prefix + path, auth=auth, timeout=30, **kw)

    def ok(self, method: str, path: str, who: str, **kw) -> dict:
        r = self.call(method, path, who, **kw)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    tmp = tmp_path_factory.mktemp("auth")
    uri = f"sqlite:///{tmp / 'loom.db'}"
    store = Store(uri)
    check_schema(store, upgrade=False)
    for name, password in PASSWORDS.items():
        store.create_user(name, cheap_hash(password), is_admin=name == "root")
    store.close()
    proc = start_server(tmp, "--backend-store-uri", uri)  # users exist: auth is on
    server = AuthServer(proc, uri)
    try:
        yield server
    finally:
        server.store.close()
        proc.stop()


@pytest.fixture
def as_user(srv: AuthServer, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """Point the real mlflow package at the server, signed in by the env vars it reads."""
    import mlflow

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(var, raising=False)

    def sign_in(**env: str):  # type: ignore[no-untyped-def]
        for key, value in env.items():
            monkeypatch.setenv(f"MLFLOW_TRACKING_{key.upper()}", value)
        mlflow.set_tracking_uri(srv.url)
        return mlflow.MlflowClient(srv.url)

    yield sign_in
    if mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def _name() -> str:
    return "exp-" + uuid.uuid4().hex[:8]


def _experiment_with_run(srv: AuthServer, who: str = "alice") -> tuple[str, str]:
    eid = srv.ok("POST", "experiments/create", who, json={"name": _name()})["experiment_id"]
    run = srv.ok("POST", "runs/create", who, json={"experiment_id": eid})
    return eid, run["run"]["info"]["run_id"]


def test_no_credentials_is_401_with_a_basic_challenge(srv: AuthServer) -> None:
    r = srv.call("GET", "experiments/search")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith('Basic realm="loom"')
    assert r.json()["error_code"] == "UNAUTHENTICATED"
    assert srv.call("GET", "/health").status_code == 200  # probes need no account


def test_wrong_password_and_unknown_user_get_the_same_401(srv: AuthServer) -> None:
    wrong = srv.call("GET", "experiments/search", ("alice", "not-her-password"))
    unknown = srv.call("GET", "experiments/search", ("mallory", "whatever-1"))
    garbage = srv.call(
        "GET", "experiments/search", headers={"Authorization": "Basic !!not-base64!!"}
    )
    bearer = srv.call("GET", "experiments/search", headers={"Authorization": "Bearer loom_nope"})
    for r in (wrong, unknown, garbage, bearer):
        assert r.status_code == 401, r.text
    assert wrong.json() == unknown.json() == garbage.json()


def test_mlflow_client_with_username_and_password_logs_a_run(srv: AuthServer, as_user) -> None:
    import mlflow

    client = as_user(username="alice", password=PASSWORDS["alice"])
    exp = mlflow.set_experiment(_name())
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_metric("loss", 0.5, step=1)
    got = client.get_run(run.info.run_id)
    assert got.data.metrics == {"loss": 0.5} and got.info.user_id == "alice"
    # the creator manages what she made
    assert srv.store.permissions("alice", "experiment", [exp.experiment_id]) == {
        exp.experiment_id: "MANAGE"
    }


def test_read_user_can_get_a_run_but_not_log_to_it(srv: AuthServer, as_user) -> None:
    from mlflow.exceptions import RestException

    eid, run_id = _experiment_with_run(srv)
    client = as_user(username="bob", password=PASSWORDS["bob"])  # the default: READ
    assert client.get_run(run_id).info.experiment_id == eid
    with pytest.raises(RestException) as caught:
        client.log_metric(run_id, "loss", 1.0)
    assert caught.value.error_code == "PERMISSION_DENIED"
    r = srv.call("POST", "runs/log-metric", "bob", json={"run_id": run_id, "key": "k", "value": 1})
    assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED"
    # the same run named the old way (run_uuid) is the same run
    r = srv.call("POST", "runs/log-parameter", "bob", json={"run_uuid": run_id, "key": "p"})
    assert r.status_code == 403
    delete = srv.call("POST", "experiments/delete", "bob", json={"experiment_id": eid})
    assert delete.status_code == 403


def test_no_permissions_hides_an_experiment(srv: AuthServer) -> None:
    eid, run_id = _experiment_with_run(srv)
    srv.store.set_permission("bob", "experiment", eid, "NO_PERMISSIONS")
    found = srv.ok("GET", "experiments/search", "bob", params={"max_results": 50000})
    assert eid not in [e["experiment_id"] for e in found["experiments"]]
    assert srv.call("GET", "experiments/get", "bob", params={"experiment_id": eid}).status_code
    # "007" is experiment 7 to the store: the grant on "7" must count for it too
    padded = "0" + eid
    r = srv.call("GET", "experiments/get", "bob", params={"experiment_id": padded})
    assert r.status_code == 403
    r = srv.call("POST", "runs/search", "bob", json={"experiment_ids": [eid]})
    assert r.status_code == 403
    name = srv.ok("GET", "experiments/get", "alice", params={"experiment_id": eid})
    by_name = {"experiment_name": name["experiment"]["name"]}
    assert srv.call("GET", "experiments/get-by-name", "bob", params=by_name).status_code == 403
    assert srv.call("GET", "runs/get", "bob", params={"run_id": run_id}).status_code == 403
    admin = srv.ok("GET", "experiments/search", "root", params={"max_results": 50000})
    assert eid in [e["experiment_id"] for e in admin["experiments"]]


def test_token_with_the_mlflow_client_then_revoked(srv: AuthServer, as_user) -> None:
    token = tokens.new_token()
    srv.store.create_token("bob", "ci-" + uuid.uuid4().hex[:6], tokens.token_hash(token))
    name = srv.store.list_tokens("bob")[-1].name
    client = as_user(token=token)
    assert client.search_experiments() is not None
    # a client that speaks only basic auth sends the token as the password
    assert srv.call("GET", "experiments/search", ("bob", token)).status_code == 200
    assert srv.call("GET", "experiments/search", ("alice", token)).status_code == 401
    srv.store.revoke_token("bob", name)
    r = srv.call("GET", "experiments/search", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert srv.call("GET", "experiments/search", ("bob", token)).status_code == 401


def test_new_password_and_deleted_user_take_effect_at_once(srv: AuthServer) -> None:
    name = "carol-" + uuid.uuid4().hex[:6]
    srv.store.create_user(name, cheap_hash("carol-secret-1"))
    for _ in range(2):  # the second is answered from the server's cache
        assert srv.call("GET", "experiments/search", (name, "carol-secret-1")).status_code == 200
    srv.store.update_user(name, password_hash=cheap_hash("carol-secret-2"))
    assert srv.call("GET", "experiments/search", (name, "carol-secret-1")).status_code == 401
    assert srv.call("GET", "experiments/search", (name, "carol-secret-2")).status_code == 200
    srv.store.delete_user(name)
    assert srv.call("GET", "experiments/search", (name, "carol-secret-2")).status_code == 401


def test_admin_and_managers_grant_over_mlflows_auth_api(srv: AuthServer) -> None:
    """The calls and bodies of mlflow.server.auth.client.AuthServiceClient."""
    dave = "dave-" + uuid.uuid4().hex[:6]
    created = srv.ok(
        "POST", "users/create", "root", json={"username": dave, "password": "dave-secret-1"}
    )
    assert created["user"]["username"] == dave and created["user"]["is_admin"] is False
    r = srv.call("POST", "users/create", "bob", json={"username": "x1", "password": "x-secret-1"})
    assert r.status_code == 403
    eid, run_id = _experiment_with_run(srv)
    metric = {"run_id": run_id, "key": "loss", "value": 0.1}
    assert srv.call("POST", "runs/log-metric", (dave, "dave-secret-1"), json=metric).status_code
    grant = {"username": dave, "resource_type": "experiment", "resource_id": eid}
    v3 = "/api/3.0/mlflow/users/permissions/"
    # bob has READ only: he can't hand out EDIT; alice created it and manages it
    r = srv.call("POST", v3 + "grant", "bob", json={**grant, "permission": "EDIT"})
    assert r.status_code == 403
    srv.ok("POST", v3 + "grant", "alice", json={**grant, "permission": "EDIT"})
    got = srv.ok("GET", v3 + "get", "root", params=grant)
    assert got == {"allowed": True, "permission": "EDIT"}
    r = srv.call("POST", "runs/log-metric", (dave, "dave-secret-1"), json=metric)
    assert r.status_code == 200, r.text
    srv.ok("POST", v3 + "revoke", "root", json=grant)
    r = srv.call("POST", "runs/log-metric", (dave, "dave-secret-1"), json=metric)
    assert r.status_code == 403
    # a user reads and changes only themselves (with the current password)
    assert srv.call("GET", "users/get", "bob", params={"username": "alice"}).status_code == 403
    change = {"username": dave, "password": "dave-secret-2", "current_password": "nope"}
    assert srv.call("PATCH", "users/update-password", (dave, "dave-secret-1"), json=change)
    r = srv.call("PATCH", "users/update-admin", "bob", json={"username": "bob", "is_admin": True})
    assert r.status_code == 403
    srv.ok("DELETE", "users/delete", "root", json={"username": dave})
    assert srv.call("GET", "users/current", (dave, "dave-secret-1")).status_code == 401


def test_off_loopback_without_users_refuses_to_start(tmp_path: Path) -> None:
    proc = launch(tmp_path / "refused", "--host", "0.0.0.0")
    assert proc.proc.wait(timeout=30) != 0

    def said() -> str:
        return "".join(proc.stdout) + "".join(proc.stderr)

    wait_for(lambda: "users add" in said(), what="the refusal's hint")  # the pipe drains
    assert "Refusing to serve 0.0.0.0 without auth" in said()


def test_off_loopback_with_insecure_no_auth_serves(tmp_path: Path) -> None:
    proc = start_server(tmp_path / "insecure", "--host", "0.0.0.0", "--insecure-no-auth")
    try:
        port = proc.url.rsplit(":", 1)[1]
        r = httpx.get(f"http://127.0.0.1:{port}{API}experiments/search", timeout=10)
        assert r.status_code == 200 and "auth off" in "".join(proc.stdout)
    finally:
        proc.stop()
    assert os.path.exists(tmp_path / "insecure" / "loom.db")


def test_artifact_paths_are_checked_on_their_experiment(tmp_path: Path) -> None:
    """The artifact proxy's rule (its first path segment is the experiment id), in
    process over a real store: no traversal or odd spelling reaches another experiment."""
    from loom.errors import LoomError
    from loom.server.auth import authorize
    from loom.server.http import Request
    from loom.server.routing import Access, Ctx, Msg
    from loom.server.services import Services
    from loom.server.settings import ServerSettings

    settings = ServerSettings(backend_store_uri=f"sqlite:///{tmp_path / 'loom.db'}", auth=True)
    services = Services(settings)
    try:
        check_schema(services.store, upgrade=False)
        services.store.create_user("bob", cheap_hash("bob-secret-1"))
        open_, closed = (services.store.create_experiment(n).experiment_id for n in "ab")
        services.store.set_permission("bob", "experiment", closed, "NO_PERMISSIONS")
        ctx = Ctx(services, Request({"type": "http", "method": "GET", "path": "/"}, None), "bob")  # type: ignore[arg-type]
        read = Access("artifact_path", "READ", "path")

        def status(path: str, access: Access = read) -> int:
            try:
                authorize(ctx, access, Msg({"path": path}))
            except LoomError as exc:
                return exc.http_status
            return 200

        assert status(f"{open_}/run/artifacts/model.pkl") == 200
        assert status(f"{closed}/run/artifacts/model.pkl") == 403
        assert status(f"0{closed}/run/artifacts/x") == 403  # "02" is experiment 2
        assert status(f"{open_}/../{closed}/run/artifacts/x") == 400
        assert status(f"{open_}/%2e%2e/{closed}/x") == 400
        assert status(f"{open_}//x") == 400 and status(f"{open_}\\..\\x") == 400
        assert status("") == 403 and status("models/x") == 403  # the root: admins only
        assert status(f"{open_}/run/artifacts/x", Access("artifact_path", "EDIT", "path")) == 403
        ctx.request.scope["loom.admin"] = True  # what authenticate sets for an admin
        assert status(f"{closed}/run/artifacts/x") == 200 and status("") == 200
    finally:
        services.close()


def test_default_permission_applies_where_no_grant_says_otherwise(tmp_path: Path) -> None:
    """``loom server --default-permission NO_PERMISSIONS``: only grants open anything."""
    from loom.server.auth import readable_experiments, readable_models, require_experiments
    from loom.server.guard import Forbidden
    from loom.server.http import Request
    from loom.server.routing import Ctx
    from loom.server.services import Services
    from loom.server.settings import ServerSettings

    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'loom.db'}",
        auth=True,
        default_permission="NO_PERMISSIONS",
    )
    services = Services(settings)
    try:
        check_schema(services.store, upgrade=False)
        services.store.create_user("bob", cheap_hash("bob-secret-1"))
        a, b, c = (services.store.create_experiment(n).experiment_id for n in "abc")
        services.store.set_permission("bob", "experiment", b, "READ")
        services.store.set_permission("bob", "experiment", c, "EDIT")
        services.store.set_permission("bob", "model", "ranker", "READ")
        ctx = Ctx(services, Request({"type": "http", "method": "GET", "path": "/"}, None), "bob")  # type: ignore[arg-type]
        assert readable_experiments(ctx, [a, b, c]) == {b, c}
        assert readable_models(ctx, ["ranker", "other"]) == {"ranker"}
        require_experiments(ctx, [c], "EDIT")
        with pytest.raises(Forbidden, match="has READ on experiment"):
            require_experiments(ctx, [c, b], "EDIT")
        with pytest.raises(Forbidden, match="NO_PERMISSIONS"):
            require_experiments(ctx, [a], "READ")
    finally:
        services.close()


def test_loom_api_lists_leave_out_what_the_caller_cannot_read(srv: AuthServer) -> None:
    """Lineage edges and registry lists over /api/v1 name runs, paths, hashes and models:
    a user without READ sees none of them (the MLflow routes check the same)."""
    eid, run_id = _experiment_with_run(srv)
    art = f"/api/2.0/mlflow-artifacts/artifacts/{eid}/{run_id}/artifacts/model.bin"
    assert srv.call("PUT", art, "alice", content=b"weights").status_code == 200
    model = "m-" + uuid.uuid4().hex[:8]
    srv.ok("POST", "registered-models/create", "alice", json={"name": model})
    srv.store.set_permission("bob", "experiment", eid, "NO_PERMISSIONS")
    srv.store.set_permission("bob", "model", model, "NO_PERMISSIONS")

    def links(who: str) -> list:
        return srv.ok("POST", "/api/v1/lineage/links-by-run", who, json={"run_ids": [run_id]})

    assert [link["path"] for link in links("alice")] == ["model.bin"]
    assert links("bob") == []
    runs = srv.ok("POST", "/api/v1/runs/get-many", "bob", json={"run_ids": [run_id]})
    assert runs == []

    def models(who: str) -> list[str]:
        listed = srv.ok("GET", "/api/v1/registered-models/list", who)
        return [m["name"] for m in listed]

    assert model in models("alice")
    assert model not in models("bob")
