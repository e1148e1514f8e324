"""Renaming a registered model and finding versions across models (the MLflow REST
registry's needs), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from loom.errors import AlreadyExistsError, ConflictError, NotFoundError
from loom.store import Store
from loom.store.entities import ViewType
from loom.store.schema import PermissionRow, UserRow


def tree(i: int) -> str:
    return f"{i:064x}"


def test_rename_takes_versions_tags_aliases_history_and_grants(store: Store) -> None:
    store.create_registered_model("old", "desc", {"team": "search"})
    store.create_model_version("old", "src", tree(1), tags={"k": "v"})
    store.create_model_version("old", "src", tree(2))
    store.set_registered_model_alias("old", "prod", 1)
    store.set_registered_model_alias("old", "prod", 2)
    with store._write() as conn:  # a grant, as the server's auth writes it
        conn.execute(sa.insert(UserRow).values(name="ann", password_hash="x", creation_time=0))
        conn.execute(
            sa.insert(PermissionRow).values(user="ann", kind="model", resource="old", level="EDIT")
        )
        # a grant made on a name no model had yet: it must not open the renamed model
        conn.execute(
            sa.insert(PermissionRow).values(
                user="ann", kind="model", resource="new", level="MANAGE"
            )
        )

    renamed = store.rename_registered_model("old", "new")
    assert (renamed.name, renamed.description, renamed.tags) == ("new", "desc", {"team": "search"})
    assert renamed.aliases == {"prod": 2} and renamed.latest_version == 2
    assert store.get_model_version("new", 1).tags == {"k": "v"}
    assert [e.to_version for e in store.get_alias_history("new", "prod")] == [1, 2]
    with pytest.raises(NotFoundError):
        store.get_registered_model("old")
    with store._read() as conn:
        grants = conn.execute(sa.select(PermissionRow.resource, PermissionRow.level)).all()
    assert [tuple(g) for g in grants] == [("new", "EDIT")]
    # the next version continues the numbering
    assert store.create_model_version("new", "src", tree(3))[0].version == 3


def test_rename_refuses_a_taken_name_and_a_deleted_model(store: Store) -> None:
    store.create_registered_model("a")
    store.create_registered_model("b")
    with pytest.raises(AlreadyExistsError):
        store.rename_registered_model("a", "b")
    assert store.rename_registered_model("a", "a").name == "a"
    store.delete_registered_model("b")
    with pytest.raises(ConflictError):
        store.rename_registered_model("b", "c")
    with pytest.raises(NotFoundError):
        store.rename_registered_model("nope", "c")


def test_find_model_versions_narrows_by_name_run_and_key(store: Store) -> None:
    exp = store.create_experiment("e").experiment_id
    run = store.create_run(exp).run_id
    store.create_model_version("a", "src", tree(1), run_id=run)
    store.create_model_version("a", "src", tree(2))
    store.create_model_version("b", "src", tree(3), run_id=run)
    store.create_model_version("gone", "src", tree(4), run_id=run)
    store.delete_registered_model("gone")
    store.delete_model_version("a", 2)

    def keys(**kw) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
        return [(v.name, v.version) for v in store.find_model_versions(**kw)]

    assert keys() == [("a", 1), ("b", 1)]
    assert keys(view=ViewType.ALL) == [("a", 1), ("a", 2), ("b", 1)]
    assert keys(names=["b"]) == [("b", 1)]
    assert keys(run_ids=[run]) == [("a", 1), ("b", 1)]
    assert keys(run_ids=[run], names=["a", "b"], keys=[("b", 1), ("a", 7)]) == [("b", 1)]
    assert keys(names=[]) == []
    many = [("a", 1), *((f"x{i}", 1) for i in range(1200))]  # more than one chunk
    assert keys(keys=many) == [("a", 1)]
