"""Registered models and versions in the store, on SQLite and PostgreSQL: numbering,
idempotence on the tree, semver, tags, descriptions, soft delete and restore, errors."""

from __future__ import annotations

import pytest

from loom.errors import AlreadyExistsError, ConflictError, NotFoundError, ValidationError
from loom.store import Store
from loom.store.entities import Lifecycle, RunOutput, ViewType


def tree(i: int) -> str:
    return f"{i:064x}"


def test_versions_are_numbered_per_name_and_create_the_model(store: Store) -> None:
    a1, created = store.create_model_version("a", "runs:/x/model", tree(1), user="ann")
    assert created and a1.version == 1 and a1.user == "ann"
    assert store.create_model_version("a", "src", tree(2))[0].version == 2
    assert store.create_model_version("b", "src", tree(1))[0].version == 1  # own numbering
    model = store.get_registered_model("a")
    assert model.latest_version == 2 and model.lifecycle_stage == Lifecycle.ACTIVE
    assert [m.name for m in store.list_registered_models()] == ["a", "b"]
    assert [v.version for v in store.list_model_versions("a")] == [1, 2]
    assert store.get_latest_version("a").version == 2
    assert store.get_model_version("a", "2") == store.get_model_version("a", 2)


def test_registering_the_same_tree_again_returns_that_version(store: Store) -> None:
    first, created = store.create_model_version("m", "runs:/1/model", tree(7), semver="1.0.0")
    again, created_again = store.create_model_version("m", "runs:/2/model", tree(7))
    assert created and not created_again
    assert again == first  # unchanged: same source, semver, times
    assert store.create_model_version("m", "src", tree(8))[0].version == 2
    # a deleted version with that tree doesn't count: the files get a new version
    store.delete_model_version("m", 1)
    third, created = store.create_model_version("m", "src", tree(7))
    assert created and third.version == 3


def test_version_numbers_are_never_reused_after_a_delete(store: Store) -> None:
    for i in range(3):
        store.create_model_version("m", "src", tree(i))
    store.delete_model_version("m", 3)
    assert store.create_model_version("m", "src", tree(9))[0].version == 4


def test_semver_is_validated_and_unique_per_name(store: Store) -> None:
    store.create_model_version("m", "src", tree(1), semver="1.2.0")
    store.create_model_version("other", "src", tree(1), semver="1.2.0")  # another name: fine
    with pytest.raises(AlreadyExistsError, match=r"Version 1 of 'm' already has .* 1\.2\.0"):
        store.create_model_version("m", "src", tree(2), semver="1.2.0")
    ok = ["2.0.0-rc.1", "1.0.0+build.5", "1.0.0-alpha.beta.1+exp.sha.5114f85", "0.0.0"]
    for i, semver in enumerate(ok):
        assert (
            store.create_model_version("m", "src", tree(10 + i), semver=semver)[0].semver == semver
        )
    for bad in ["1.2", "v1.2.0", "01.2.0", "1.2.0-", "1.2.0-01", "1.2.3.4", "", "1.2.0 "]:
        with pytest.raises(ValidationError, match="semantic version"):
            store.create_model_version("m", "src", tree(99), semver=bad)
    assert len(store.list_model_versions("m")) == 1 + len(ok)  # refused ones left nothing


def test_tags_and_descriptions(store: Store) -> None:
    model = store.create_registered_model("m", "Embeds queries", {"team": "search"})
    assert model.description == "Embeds queries" and model.tags == {"team": "search"}
    store.set_registered_model_tag("m", "owner", "ann")
    store.delete_registered_model_tag("m", "team")
    store.delete_registered_model_tag("m", "never-set")  # fine, as in MLflow
    assert store.get_registered_model("m").tags == {"owner": "ann"}
    assert store.update_registered_model("m", "New text").description == "New text"
    assert store.update_registered_model("m", None).description is None

    mv, _ = store.create_model_version("m", "src", tree(1), description="v1", tags={"a": "1"})
    assert mv.description == "v1" and mv.tags == {"a": "1"}
    store.set_model_version_tag("m", 1, "b", "2")
    store.delete_model_version_tag("m", 1, "a")
    assert store.update_model_version("m", 1, "better").description == "better"
    got = store.get_model_version("m", 1)
    assert got.tags == {"b": "2"} and got.tree == tree(1)  # the files never change
    with pytest.raises(ValidationError, match="limit is 5000"):
        store.update_model_version("m", 1, "x" * 5001)
    with pytest.raises(ValidationError, match="tag key"):
        store.set_registered_model_tag("m", "", "v")


def test_create_registered_model_twice_is_already_exists(store: Store) -> None:
    store.create_registered_model("m")
    with pytest.raises(AlreadyExistsError, match="already exists") as info:
        store.create_registered_model("m")
    assert "new version" in (info.value.hint or "")
    store.delete_registered_model("m")
    with pytest.raises(AlreadyExistsError, match="deleted") as info:
        store.create_registered_model("m")
    assert "loom models restore m" in (info.value.hint or "")


def test_soft_delete_and_restore_of_models(store: Store) -> None:
    store.create_model_version("m", "src", tree(1))
    store.delete_registered_model("m")
    assert store.list_registered_models() == []
    assert [m.name for m in store.list_registered_models(ViewType.DELETED_ONLY)] == ["m"]
    assert store.get_registered_model("m").lifecycle_stage == Lifecycle.DELETED
    with pytest.raises(ConflictError, match="deleted") as info:
        store.create_model_version("m", "src", tree(2))
    assert "loom models restore m" in (info.value.hint or "")
    with pytest.raises(ConflictError, match="deleted"):
        store.set_registered_model_alias("m", "production", 1)
    store.restore_registered_model("m")
    assert store.create_model_version("m", "src", tree(2))[0].version == 2


def test_soft_delete_and_restore_of_versions(store: Store) -> None:
    for i in (1, 2):
        store.create_model_version("m", "src", tree(i))
    store.delete_model_version("m", 2)
    assert [v.version for v in store.list_model_versions("m")] == [1]
    assert [v.version for v in store.list_model_versions("m", ViewType.DELETED_ONLY)] == [2]
    assert [v.version for v in store.list_model_versions("m", ViewType.ALL)] == [1, 2]
    assert store.get_model_version("m", 2).lifecycle_stage == Lifecycle.DELETED
    assert store.get_latest_version("m").version == 1
    assert store.get_registered_model("m").latest_version == 1
    store.restore_model_version("m", 2)
    assert store.get_latest_version("m").version == 2
    store.delete_model_version("m", 1)
    store.delete_model_version("m", 2)
    with pytest.raises(NotFoundError, match="no active version"):
        store.get_latest_version("m")


def test_deleting_an_aliased_version_needs_force_which_removes_the_aliases(store: Store) -> None:
    for i in (1, 2):
        store.create_model_version("m", "src", tree(i))
    store.set_registered_model_alias("m", "production", 1)
    store.set_registered_model_alias("m", "champion", 1)
    store.set_registered_model_alias("m", "staging", 2)
    with pytest.raises(ConflictError, match="champion, production") as info:
        store.delete_model_version("m", 1)
    assert "--force" in (info.value.hint or "")
    assert store.get_model_version("m", 1).lifecycle_stage == Lifecycle.ACTIVE  # untouched
    store.delete_model_version("m", 1, force=True, user="bob")
    assert store.get_registered_model("m").aliases == {"staging": 2}
    last = store.get_alias_history("m", "production")[-1]
    assert (last.kind, last.from_version, last.to_version, last.user) == ("delete", 1, None, "bob")
    # restoring the version does not bring the aliases back: the history says why
    store.restore_model_version("m", 1)
    assert store.get_registered_model("m").aliases == {"staging": 2}


@pytest.mark.parametrize(
    "name", ["", "a/b", "a@b", "a:b", " a", "a ", "a\nb", "a\x00b", "x" * 501, None, 3]
)
def test_bad_model_names_are_refused(store: Store, name: object) -> None:
    with pytest.raises(ValidationError, match="model name"):
        store.create_model_version(name, "src", tree(1))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="model name"):
        store.create_registered_model(name)  # type: ignore[arg-type]
    assert store.list_registered_models(ViewType.ALL) == []


def test_names_that_fit_a_uri_are_accepted(store: Store) -> None:
    for name in ["rag-embedder", "Fraud Model v2", "ü-modèle", "a.b_c", "x" * 500]:
        assert store.create_model_version(name, "src", tree(1))[0].name == name


@pytest.mark.parametrize("version", [0, -1, 1.5, "one", "", True, 2**31, None])
def test_bad_versions_are_refused(store: Store, version: object) -> None:
    store.create_model_version("m", "src", tree(1))
    with pytest.raises(ValidationError, match="Invalid model version"):
        store.get_model_version("m", version)  # type: ignore[arg-type]


def test_unknown_model_and_version_errors_name_what_exists(store: Store) -> None:
    with pytest.raises(NotFoundError, match="No registered model named 'nope'") as info:
        store.get_registered_model("nope")
    assert "loom models register" in (info.value.hint or "")  # nothing registered yet
    for i in (1, 2, 3, 4):
        store.create_model_version("rag-embedder", "src", tree(i))
    with pytest.raises(NotFoundError) as info:
        store.get_registered_model("rag-embeder")
    assert "Did you mean 'rag-embedder'" in (info.value.hint or "")
    with pytest.raises(NotFoundError, match=r"has no version 9: its versions are 1-4\."):
        store.get_model_version("rag-embedder", 9)
    with pytest.raises(NotFoundError, match="No registered model"):
        store.list_model_versions("zzz")
    with pytest.raises(NotFoundError, match="No registered model"):
        store.set_registered_model_tag("zzz", "k", "v")


def test_a_version_links_to_an_existing_run_and_logged_model(store: Store) -> None:
    run = store.create_run("0")
    lm = store.create_logged_model("0", "model", tree(1), "sklearn", run_id=run.run_id)
    mv, _ = store.create_model_version(
        "m",
        f"models:/{lm.model_id}",
        tree(1),
        run_id=run.run_id,
        model_id=lm.model_id,
        flavor="sklearn",
    )
    assert (mv.run_id, mv.model_id, mv.flavor) == (run.run_id, lm.model_id, "sklearn")
    with pytest.raises(NotFoundError, match="No run"):
        store.create_model_version("m", "src", tree(2), run_id="f" * 32)
    with pytest.raises(NotFoundError, match="No logged model"):
        store.create_model_version("m", "src", tree(2), model_id="m-" + "0" * 32)
    with pytest.raises(ValidationError, match="Invalid hash"):
        store.create_model_version("m", "src", "NOT A HASH")
    assert len(store.list_model_versions("m")) == 1


def test_logged_models(store: Store) -> None:
    run = store.create_run("0")
    first = store.create_logged_model(
        "0", "model", tree(1), "sklearn", run_id=run.run_id, tags={"k": "v"}
    )
    second = store.create_logged_model("0", "sub/onnx", tree(2), "onnx", run_id=run.run_id)
    assert first.model_id.startswith("m-") and len(first.model_id) == 34
    assert store.get_logged_model(first.model_id) == first and first.tags == {"k": "v"}
    assert store.list_logged_models(run.run_id) == [first, second]
    assert store.create_logged_model("0", "m", tree(3), "generic").run_id is None
    for bad in ["m-nope", "x" * 40, ""]:
        with pytest.raises(NotFoundError, match="No logged model"):
            store.get_logged_model(bad)
    with pytest.raises(NotFoundError, match="No experiment"):
        store.create_logged_model("999", "model", tree(1), "sklearn")
    with pytest.raises(ValidationError):
        store.create_logged_model("0", "../model", tree(1), "sklearn")


def test_outputs(store: Store) -> None:
    run = store.create_run("0")
    outs = [RunOutput("model", tree(1), 10, "model"), RunOutput("data/out.csv", tree(2), 3)]
    store.log_outputs(run.run_id, outs)
    store.log_outputs(run.run_id, [outs[0], RunOutput("dir", tree(3), None, "directory")])
    assert store.list_outputs(run.run_id) == [*outs, RunOutput("dir", tree(3), None, "directory")]
    with pytest.raises(ValidationError, match="kind"):
        store.log_outputs(run.run_id, [RunOutput("x", tree(4), kind="blob")])
    with pytest.raises(ValidationError, match="hash"):
        store.log_outputs(run.run_id, [RunOutput("x", "ZZ")])
    with pytest.raises(NotFoundError, match="No run"):
        store.list_outputs("0" * 32)
    store.delete_run(run.run_id)
    with pytest.raises(ConflictError, match="deleted"):
        store.log_outputs(run.run_id, outs)
