from __future__ import annotations

import pytest

from loom.errors import AlreadyExistsError, ConflictError, NotFoundError, ValidationError
from loom.store import Lifecycle, Store, ViewType


def test_default_experiment_exists(store: Store) -> None:
    default = store.get_experiment("0")
    assert default.name == "Default"
    assert store.get_experiment_by_name("Default") == default


def test_create_get_list_with_tags(store: Store) -> None:
    exp = store.create_experiment("rag", tags={"team": "search"})
    assert exp.experiment_id != "0"
    assert exp.tags == {"team": "search"}
    assert store.get_experiment(exp.experiment_id) == exp
    assert [e.name for e in store.list_experiments()] == ["Default", "rag"]
    store.set_experiment_tag(exp.experiment_id, "team", "ranking")
    assert store.get_experiment(exp.experiment_id).tags == {"team": "ranking"}


def test_duplicate_name_is_refused(store: Store) -> None:
    store.create_experiment("dup")
    with pytest.raises(AlreadyExistsError, match="'dup' already exists"):
        store.create_experiment("dup")


def test_deleted_name_still_taken_and_hint_says_restore(store: Store) -> None:
    exp = store.create_experiment("gone")
    store.delete_experiment(exp.experiment_id)
    with pytest.raises(AlreadyExistsError) as info:
        store.create_experiment("gone")
    assert "restore" in (info.value.hint or "")


def test_delete_restore_and_views(store: Store) -> None:
    exp = store.create_experiment("x")
    store.delete_experiment(exp.experiment_id)
    assert store.get_experiment(exp.experiment_id).lifecycle_stage == Lifecycle.DELETED
    assert "x" not in [e.name for e in store.list_experiments()]
    assert [e.name for e in store.list_experiments(ViewType.DELETED_ONLY)] == ["x"]
    assert len(store.list_experiments(ViewType.ALL)) == 2
    with pytest.raises(ConflictError, match="deleted"):
        store.create_run(exp.experiment_id)
    store.restore_experiment(exp.experiment_id)
    assert store.get_experiment(exp.experiment_id).lifecycle_stage == Lifecycle.ACTIVE


def test_rename(store: Store) -> None:
    a = store.create_experiment("a")
    store.create_experiment("b")
    store.rename_experiment(a.experiment_id, "a2")
    assert store.get_experiment(a.experiment_id).name == "a2"
    with pytest.raises(AlreadyExistsError, match="'b' is taken"):
        store.rename_experiment(a.experiment_id, "b")


@pytest.mark.parametrize("bad", ["99999", "abc", "-1", ""])
def test_missing_experiment(store: Store, bad: str) -> None:
    with pytest.raises(NotFoundError) as info:
        store.get_experiment(bad)
    assert info.value.hint == "loom exp list"
    assert store.get_experiment_by_name("nope") is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 501, "a\x00b", "tab\there"])
def test_bad_experiment_names(store: Store, name: str) -> None:
    with pytest.raises(ValidationError):
        store.create_experiment(name)
    assert [e.name for e in store.list_experiments()] == ["Default"]
