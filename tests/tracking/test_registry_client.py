"""``loom.Client``'s registry methods: the client fills in who made each change.
On each local store and over HTTP (this process's ``loom server``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loom.store.entities import RunOutput
from loom.tracking import env
from loom.tracking.client import Client


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "http"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Client]:
    uri = {
        "sqlite": lambda: f"sqlite:///{tmp_path / 'loom.db'}",
        "postgres": lambda: request.getfixturevalue("pg_store_uri"),
        "http": lambda: request.getfixturevalue("http_uri"),
    }[request.param]()
    with Client(uri) as c:
        yield c


def _tree(i: int) -> str:
    return f"{i:064x}"


def test_the_client_records_who_registered_and_who_moved_aliases(client: Client) -> None:
    me = env.current_user()
    assert me
    mv, created = client.create_model_version("rag", "src", _tree(1), tags={"epochs": 10})
    assert created and mv.user == me and mv.tags == {"epochs": "10"}
    client.create_model_version("rag", "src", _tree(2))
    events = [
        client.set_registered_model_alias("rag", "production", 1, "first"),
        client.set_registered_model_alias("rag", "production", 2),
        client.rollback_registered_model_alias("rag", "production"),
        client.delete_registered_model_alias("rag", "production"),
    ]
    assert [e.user for e in events] == [me] * 4
    client.set_registered_model_alias("rag", "staging", 2)
    client.delete_model_version("rag", 2, force=True)
    assert client.get_alias_history("rag", "staging")[-1].user == me
    assert client.get_alias_history("rag", "production") == events


def test_the_client_reaches_every_registry_method(client: Client) -> None:
    exp = client.get_or_create_experiment("e")
    run = client.create_run(exp.experiment_id)
    client.create_registered_model("rag", "text", {"n": 1})
    client.set_registered_model_tag("rag", "owner", "ann")
    assert client.get_registered_model("rag").tags == {"n": "1", "owner": "ann"}
    lm = client.create_logged_model(
        exp.experiment_id, "model", _tree(3), "sklearn", run_id=run.run_id
    )
    mv, _ = client.create_model_version(
        "rag",
        f"models:/{lm.model_id}",
        _tree(3),
        run_id=run.run_id,
        model_id=lm.model_id,
        semver="1.0.0",
    )
    assert client.get_latest_version("rag") == mv
    assert client.list_logged_models(run.run_id) == [lm]
    client.set_model_version_tag("rag", 1, "ok", True)
    assert client.get_model_version("rag", 1).tags == {"ok": "True"}
    client.log_outputs(run.run_id, [RunOutput("model", _tree(3), kind="model")])
    assert client.list_outputs(run.run_id)[0].hash == _tree(3)
    client.set_registered_model_alias("rag", "production", 1)
    assert client.get_aliases_at("rag") == {"production": 1}
    assert client.get_model_version_by_alias("rag", "production").semver == "1.0.0"
