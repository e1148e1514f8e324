"""log_model → register_model → load_model through the store (SQLite and PostgreSQL):
logged models, outputs, idempotent versions, every URI form, tampering, gc refs."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from loom.errors import (
    ConflictError,
    CorruptObjectError,
    LoomWarning,
    NotFoundError,
    PackageError,
)
from loom.objects.odb import ObjectDB
from loom.objects.tree import Tree
from loom.registry import api
from tests.data.conftest import corrupt_object
from tests.registry.models import Threshold


def _log(client, run_id, model, path="model", **kw):
    return api.log_model(model, path, run_id=run_id, client=client, **kw)


def test_log_model_records_a_logged_model_an_output_and_refs(client, run_id, sk_model) -> None:
    info = _log(client, run_id, sk_model)
    lm = client.get_logged_model(info.model_id)
    assert (lm.tree, lm.flavor, lm.run_id, lm.name) == (info.tree, "sklearn", run_id, "model")
    [out] = client.list_outputs(run_id)
    assert (out.path, out.hash, out.kind) == ("model", info.tree, "model")
    odb = ObjectDB(client.artifact_root)
    tree = Tree.from_bytes(odb.read(info.tree))  # the tree object is stored, verified
    arts = {a.path: a.hash for a in client.list_artifacts(run_id, "model")}
    assert {f"model/{e.path}": e.hash for e in tree.entries} == arts
    assert out.size == tree.size
    kept = odb.refs.oids()  # what gc keeps whatever store it is started with
    assert info.tree in kept and set(arts.values()) <= kept


def test_register_is_idempotent_on_the_same_files_and_says_so(client, run_id, sk_model) -> None:
    info = _log(client, run_id, sk_model)
    mv = api.register_model(info.model_uri, "churn", semver="1.0.0", client=client)
    assert (mv.version, mv.tree, mv.model_id, mv.run_id) == (1, info.tree, info.model_id, run_id)
    assert mv.source == f"runs:/{run_id}/model" and mv.flavor == "sklearn"
    for uri in (info.model_uri, info.logged_model_uri, f"runs:/{run_id[:8]}/model"):
        with pytest.warns(LoomWarning, match="Version 1 of model 'churn' already holds these"):
            again = api.register_model(uri, "churn", client=client)
        assert again.version == 1 and again.tree == info.tree
    with pytest.warns(LoomWarning, match="Its semver stays 1.0.0; 2.0.0 was not applied"):
        api.register_model(info.model_uri, "churn", semver="2.0.0", client=client)
    other = _log(client, run_id, Threshold(0.5), "model-2")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LoomWarning)  # a new version: no warning
        assert api.register_model(other.model_uri, "churn", client=client).version == 2
    assert [v.version for v in client.list_model_versions("churn")] == [1, 2]


def test_every_uri_form_loads_the_same_files(client, run_id, data, sk_model) -> None:
    X, _ = data
    info = _log(client, run_id, sk_model, registered_model_name="churn")
    assert info.registered_model_version is not None
    assert info.registered_model_version.version == 1
    api.set_alias("churn", "production", 1, comment="first", client=client)
    uris = [
        info.model_uri,
        f"runs:/{run_id[:10]}/model",
        info.logged_model_uri,
        "models:/churn/1",
        "models:/churn@production",
        "models:/churn/latest",
    ]
    for uri in uris:
        loaded = api.load_model(uri, client=client)
        assert np.array_equal(loaded.predict(X), sk_model.predict(X)), uri
        meta = loaded.metadata
        assert (meta.tree, meta.run_id, meta.model_id, meta.flavor) == (
            info.tree,
            run_id,
            info.model_id,
            "sklearn",
        ), uri
    by_alias = api.load_model("models:/churn@production", client=client).metadata
    assert (by_alias.name, by_alias.version, by_alias.alias) == ("churn", 1, "production")


def test_unknown_names_are_not_found_errors(client, run_id, sk_model) -> None:
    _log(client, run_id, sk_model, registered_model_name="churn")
    for uri in (
        "models:/nope/1",
        "models:/churn/7",
        "models:/churn@staging",
        "models:/m-" + "0" * 32,
        f"runs:/{run_id}/nothing-here",
    ):
        with pytest.raises(NotFoundError):
            api.load_model(uri, client=client)


def test_plain_artifacts_are_no_model_package(client, run_id, tmp_path) -> None:
    (tmp_path / "w.bin").write_bytes(b"weights")
    client.log_artifact(run_id, tmp_path / "w.bin", "weights")
    for call in (
        lambda: api.load_model(f"runs:/{run_id}/weights", client=client),
        lambda: api.register_model(f"runs:/{run_id}/weights", "w", client=client),
    ):
        with pytest.raises(PackageError, match="is not a Loom model package: it has no"):
            call()


def test_logging_twice_under_one_path_is_refused(client, run_id, sk_model) -> None:
    _log(client, run_id, sk_model)
    with pytest.raises(ConflictError, match="already has artifacts under 'model'"):
        _log(client, run_id, sk_model)


def test_a_tampered_object_is_refused_never_loaded(client, run_id, sk_model) -> None:
    info = _log(client, run_id, sk_model, registered_model_name="churn")
    odb = ObjectDB(client.artifact_root)
    entries = Tree.from_bytes(odb.read(info.tree)).as_dict()
    weights = entries["model.skops"]
    corrupt_object(odb, weights.hash)
    shutil.rmtree(client.artifact_root / "models")  # no materialized copy to fall back on
    with pytest.raises(CorruptObjectError) as err:
        api.load_model("models:/churn/1", client=client)
    assert "loom fsck" in (err.value.hint or "")
    assert not (client.artifact_root / "models" / info.tree).exists()  # nothing half-placed


def test_a_changed_cached_file_is_rebuilt_from_the_objects(client, run_id, data, sk_model) -> None:
    X, _ = data
    info = _log(client, run_id, sk_model)
    loaded = api.load_model(info.model_uri, client=client)
    model_file = loaded.path / "model.skops"
    model_file.chmod(0o644)
    model_file.write_bytes(b"tampered")
    again = api.load_model(info.model_uri, client=client)
    assert again.path == loaded.path
    assert np.array_equal(again.predict(X), sk_model.predict(X))


def test_a_wrong_loom_model_yaml_is_refused_naming_the_file(
    client, run_id, sk_model, tmp_path
) -> None:
    info = _log(client, run_id, sk_model)
    good = api.load_model(info.model_uri, client=client).path
    for n, (old, new, why) in enumerate(
        [
            ("loader: loom.registry.flavors.sklearn", "loader: os.system", "its own loaders"),
            ("file: model.skops", "file: weights.skops", "names weights.skops, which the"),
        ]
    ):
        forged = tmp_path / f"forged-{n}"
        shutil.copytree(good, forged)
        meta = forged / "loom-model.yaml"
        meta.chmod(0o644)
        assert old in meta.read_text()
        meta.write_text(meta.read_text().replace(old, new))
        client.log_artifacts(run_id, forged, f"forged-{n}")
        with pytest.raises(PackageError) as err:
            api.load_model(f"runs:/{run_id}/forged-{n}", client=client)
        assert f"loom-model.yaml of runs:/{run_id}/forged-{n}" in err.value.message
        assert why in err.value.message


def test_the_fluent_names_from_the_issue(store_uri, data, sk_model) -> None:
    import loom

    X, _ = data
    loom.set_tracking_uri(store_uri)
    with loom.start_run() as run:
        info = loom.log_model(sk_model, "model", input_example=X[:5])
    assert info.run_id == run.run_id
    mv = loom.register_model(f"runs:/{run.run_id}/model", "rag-embedder", semver="1.2.0")
    event = loom.set_alias("rag-embedder", "production", mv.version, comment="recall@10 0.92")
    assert (event.to_version, event.comment) == (1, "recall@10 0.92")
    model = loom.load_model("models:/rag-embedder@production")
    assert np.array_equal(model.predict(X), sk_model.predict(X))
    with loom.Client(store_uri) as c:
        held = c.get_model_version_by_alias("rag-embedder", "production")
    assert (held.version, held.semver, held.tree) == (1, "1.2.0", info.tree)


def test_a_client_without_a_run_id_is_a_usage_error(client, sk_model) -> None:
    from loom.errors import UsageError

    with pytest.raises(UsageError, match="needs run_id= too"):
        api.log_model(sk_model, "model", client=client)
