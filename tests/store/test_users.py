"""The team server's users, tokens and grants in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loom.errors import AlreadyExistsError, NotFoundError, ValidationError
from loom.store import Store, open_store


@pytest.fixture(scope="module")
def store(module_store_uri: str) -> Iterator[Store]:
    """One store for the module (each test uses names of its own)."""
    s = open_store(module_store_uri)
    try:
        yield s
    finally:
        s.close()


def test_users_tokens_and_their_deletion(store: Store) -> None:
    before = store.user_count()
    store.create_user("alice", "hash-a", is_admin=True)
    store.create_user("bob", "hash-b")
    with pytest.raises(AlreadyExistsError):
        store.create_user("bob", "other")
    listed = [(u.name, u.is_admin) for u in store.list_users() if u.name in ("alice", "bob")]
    assert listed == [("alice", True), ("bob", False)]
    store.update_user("bob", password_hash="hash-b2", is_admin=True)
    bob = store.get_user("bob")
    assert bob is not None and bob.password_hash == "hash-b2" and bob.is_admin
    with pytest.raises(NotFoundError):
        store.update_user("nobody", is_admin=True)
    store.create_token("bob", "ci", "f" * 64)
    with pytest.raises(AlreadyExistsError):
        store.create_token("bob", "ci", "e" * 64)
    with pytest.raises(NotFoundError):
        store.create_token("nobody", "ci", "d" * 64)
    owner = store.token_user("f" * 64)
    assert owner is not None and owner.name == "bob"
    assert [t.name for t in store.list_tokens("bob")] == ["ci"]
    store.set_permission("bob", "model", "ranker", "EDIT")
    store.delete_user("bob")  # with his tokens and grants
    assert store.get_user("bob") is None and store.token_user("f" * 64) is None
    assert store.list_permissions("bob") == [] and store.user_count() == before + 1
    with pytest.raises(NotFoundError):
        store.delete_user("bob")


def test_grants_and_what_a_run_or_logged_model_belongs_to(store: Store) -> None:
    store.create_user("carol", "hash")
    eid = store.create_experiment("rag").experiment_id
    run = store.create_run(eid)
    assert store.run_grant("carol", run.run_id) == (eid, None)
    store.set_permission("carol", "experiment", eid, "READ")
    store.set_permission("carol", "experiment", eid, "EDIT")  # a second grant replaces the first
    assert store.run_grant("carol", run.run_id) == (eid, "EDIT")
    assert store.run_grant("alice", run.run_id) == (eid, None)
    assert store.run_grant("carol", "0" * 32) is None
    assert store.logged_model_grant("carol", "m-nope") is None
    assert store.grant_of("carol", "experiment", eid) == "EDIT"
    assert store.permissions("carol", "experiment", [eid, "999", eid]) == {eid: "EDIT"}
    with pytest.raises(ValidationError):
        store.set_permission("carol", "experiment", eid, "OWNER")
    with pytest.raises(ValidationError):
        store.set_permission("carol", "run", eid, "READ")
    with pytest.raises(NotFoundError):
        store.set_permission("nobody", "experiment", eid, "READ")
    store.set_permission("carol", "model", "old-name", "MANAGE")
    store.rename_permissions("model", "old-name", "new-name")
    assert store.permissions("carol", "model", ["old-name", "new-name"]) == {"new-name": "MANAGE"}
    store.drop_permissions("model", "new-name")
    assert store.grant_of("carol", "model", "new-name") is None
    store.delete_permission("carol", "experiment", eid)
    with pytest.raises(NotFoundError):
        store.delete_permission("carol", "experiment", eid)
    assert store.run_grant("carol", run.run_id) == (eid, None)
