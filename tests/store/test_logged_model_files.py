"""What the MLflow server API adds to logged models: pending models, uploaded files,
params, tags, finalize, soft delete, search; and the artifact proxy's file rules."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from loom.entities import Artifact
from loom.errors import ConflictError, NotFoundError, ValidationError
from loom.store import Store, open_store

H1, H2, TREE = "a1" * 32, "b2" * 32, "cd" * 32


@pytest.fixture(scope="module")
def shared(module_store_uri: str) -> Iterator[Store]:
    """One store per backend for the module (migrating a PostgreSQL schema takes seconds);
    each test works in an experiment of its own."""
    s = open_store(module_store_uri)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def store(shared: Store) -> tuple[Store, str]:
    return shared, shared.create_experiment("e-" + uuid.uuid4().hex[:8]).experiment_id


def _pending(store: Store, exp: str, name: str = "model", run_id: str | None = None):  # type: ignore[no-untyped-def]
    return store.create_logged_model(exp, name, "", "mlflow", run_id=run_id, status="PENDING")


def test_pending_model_gets_files_then_a_tree(store: tuple[Store, str]) -> None:
    store, exp = store
    run = store.create_run(exp)
    lm = _pending(store, exp, run_id=run.run_id)
    assert (lm.status, lm.tree) == ("PENDING", "")
    with pytest.raises(ValidationError):  # only a pending model may lack its tree
        store.create_logged_model(exp, "m", "", "mlflow")
    store.add_logged_model_files(lm.model_id, [Artifact("MLmodel", H1, 10)])
    store.add_logged_model_files(lm.model_id, [Artifact("sub/w.bin", H2, 20)])
    store.add_logged_model_files(lm.model_id, [Artifact("MLmodel", H2, 11)])  # replaced
    assert store.list_logged_model_files(lm.model_id) == [
        Artifact("MLmodel", H2, 11),
        Artifact("sub/w.bin", H2, 20),
    ]
    assert store.list_logged_model_files(lm.model_id, "sub") == [Artifact("sub/w.bin", H2, 20)]
    done = store.finalize_logged_model(lm.model_id, "READY", tree=TREE, flavor="sklearn")
    assert (done.status, done.tree, done.flavor) == ("READY", TREE, "sklearn")
    assert H2 in store.artifact_hashes()  # gc keeps what logged models name
    assert store.runs_logged_models([run.run_id]) == [done]


def test_params_tags_delete_and_search(store: tuple[Store, str]) -> None:
    store, exp = store
    a, b = _pending(store, exp, "alpha"), _pending(store, exp, "beta")
    store.log_logged_model_params(a.model_id, {"lr": "0.1"})
    store.log_logged_model_params(a.model_id, {"lr": "0.1", "depth": "3"})  # same value: fine
    with pytest.raises(ConflictError):
        store.log_logged_model_params(a.model_id, {"lr": "0.2"})
    assert store.logged_model_params([a.model_id, b.model_id]) == {
        a.model_id: {"depth": "3", "lr": "0.1"},
        b.model_id: {},
    }
    store.set_logged_model_tags(b.model_id, {"team": "x", "k": "v"})
    store.delete_logged_model_tag(b.model_id, "k")
    with pytest.raises(NotFoundError):
        store.delete_logged_model_tag(b.model_id, "k")
    assert store.get_logged_model(b.model_id).tags == {"team": "x"}

    def names(f: str = "", order=()) -> list[str]:  # type: ignore[no-untyped-def]
        return [m.name for m in store.search_logged_models([exp], f, order_by=order).items]

    assert names(order=[("name", True)]) == ["alpha", "beta"]
    assert names("name LIKE 'al%'") == ["alpha"]
    assert names("tags.team = 'x'") == ["beta"]
    assert names("params.lr = '0.1' AND status = 'PENDING'") == ["alpha"]
    page = store.search_logged_models([exp], max_results=1)
    rest = store.search_logged_models([exp], max_results=1, page_token=page.next_page_token)
    assert len(page.items) == len(rest.items) == 1 and rest.next_page_token is None
    store.delete_logged_model(a.model_id)
    assert names() == ["beta"]
    assert store.get_logged_model(a.model_id).status == "DELETED"  # kept for lineage
    with pytest.raises(NotFoundError):
        store.set_logged_model_tags(a.model_id, {"x": "y"})
    with pytest.raises(ValidationError):
        store.search_logged_models([exp], "metrics.acc > 1")


def test_proxy_file_rules(store: tuple[Store, str]) -> None:
    store, exp = store
    run = store.create_run(exp)
    store.log_artifacts(run.run_id, [Artifact("d/a.txt", H1, 1), Artifact("d2/b.txt", H1, 1)])
    owner = ("run", run.run_id)
    assert store.file_path_conflict(owner, "d/c.txt") is None
    assert store.file_path_conflict(owner, "d/a.txt") is None  # replacing a file
    assert "folder" in (store.file_path_conflict(owner, "d") or "")
    assert "is a file" in (store.file_path_conflict(owner, "d/a.txt/x") or "")
    assert store.delete_artifacts(run.run_id, "d") == 1
    assert [a.path for a in store.list_artifacts(run.run_id)] == ["d2/b.txt"]
    lm = _pending(store, exp)
    store.add_logged_model_files(lm.model_id, [Artifact("x/y", H1, 1)])
    assert store.file_path_conflict(("model", lm.model_id), "x") is not None
    assert store.delete_logged_model_files(lm.model_id, "x") == 1
    assert store.attach_logged_model_run(lm.model_id, run.run_id).run_id == run.run_id
