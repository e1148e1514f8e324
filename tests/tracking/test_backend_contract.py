"""The Backend contract: every backend × every store passes the same suite.

LocalBackend on SQLite and on PostgreSQL, and HttpBackend against one ``loom server``
per test process (SQLite; its store is emptied before each test, which is far
cheaper than a server per test).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest

from loom.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from loom.store.entities import Artifact, Lifecycle, Metric, RunInput, RunStatus, ViewType
from loom.tracking.backend import Backend, LocalBackend

# local on each store, http once (a server on SQLite)
BACKENDS = [
    "local-sqlite",
    pytest.param("local-postgres", marks=pytest.mark.postgres),
    "http",
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b: Backend
    if request.param == "http":
        from loom.tracking.http_backend import HttpBackend

        b = HttpBackend(request.getfixturevalue("http_uri"))
    elif request.param == "local-sqlite":
        b = LocalBackend(f"sqlite:///{tmp_path / 'store' / 'loom.db'}")
    else:
        b = LocalBackend(request.getfixturevalue("pg_store_uri"))
    try:
        yield b
    finally:
        b.close()


def _ms() -> int:
    return int(time.time() * 1000)


def _run(backend: Backend, exp: str = "e", **kw):
    return backend.create_run(backend.get_or_create_experiment(exp).experiment_id, **kw)


def test_local_backend_implements_every_method_itself() -> None:
    """No pass-through: each method of the contract is written out, so a change to the
    store can't silently change what the client (or the server) sees."""
    from loom.tracking.local_registry import LocalRegistry

    assert not hasattr(LocalBackend, "__getattr__")
    written = vars(LocalBackend).keys() | vars(LocalRegistry).keys()  # the registry's, apart
    missing = [m for m in Backend.__abstractmethods__ if m not in written]
    assert missing == []
    assert {"create_run", "log_artifacts", "get_file", "end_run"} <= Backend.__abstractmethods__


# -- experiments ---------------------------------------------------------------


def test_experiments(backend: Backend) -> None:
    exp = backend.create_experiment("alpha", {"team": "search"})
    assert backend.get_experiment(exp.experiment_id).tags == {"team": "search"}
    assert backend.get_experiment_by_name("alpha") == exp
    assert backend.get_experiment_by_name("nope") is None
    with pytest.raises(AlreadyExistsError):
        backend.create_experiment("alpha")
    backend.rename_experiment(exp.experiment_id, "beta")
    backend.set_experiment_tag(exp.experiment_id, "stage", "dev")
    assert backend.get_experiment(exp.experiment_id).tags == {"team": "search", "stage": "dev"}
    backend.delete_experiment(exp.experiment_id)
    assert "beta" not in [e.name for e in backend.list_experiments()]
    assert "beta" in [e.name for e in backend.list_experiments(ViewType.DELETED_ONLY)]
    backend.restore_experiment(exp.experiment_id)
    assert backend.get_experiment(exp.experiment_id).lifecycle_stage == Lifecycle.ACTIVE
    with pytest.raises(NotFoundError):
        backend.get_experiment("987654")


def test_get_or_create_experiment(backend: Backend) -> None:
    first = backend.get_or_create_experiment("sweep")
    assert backend.get_or_create_experiment("sweep") == first
    assert [e.name for e in backend.list_experiments()].count("sweep") == 1
    backend.delete_experiment(first.experiment_id)
    with pytest.raises(ConflictError) as err:
        backend.get_or_create_experiment("sweep")
    assert "loom exp restore sweep" in (err.value.hint or "")
    with pytest.raises(ValidationError):
        backend.get_or_create_experiment("")


# -- runs ----------------------------------------------------------------------


def test_run_lifecycle(backend: Backend) -> None:
    art = Artifact("loom/env.txt", *backend.put_bytes(b"env\n"))
    run = _run(backend, name="first", tags={"team": "a"}, start_time=1000, artifacts=[art])
    assert run.status == RunStatus.RUNNING and run.start_time == 1000
    got = backend.get_run(run.run_id)
    assert (got.name, got.tags) == ("first", {"team": "a"})
    assert backend.list_artifacts(run.run_id) == [art]
    assert [r.run_id for r in backend.list_runs_by_status(RunStatus.RUNNING)] == [run.run_id]
    backend.update_run(run.run_id, name="renamed")
    backend.end_run(run.run_id, RunStatus.FINISHED, 5000, [Metric("m", 1.0, 4000, 3)], {"k": "v"})
    got = backend.get_run(run.run_id)
    assert (got.status, got.end_time, got.metrics, got.tags["k"]) == (
        RunStatus.FINISHED,
        5000,
        {"m": 1.0},
        "v",
    )
    assert got.name == "renamed"
    backend.delete_run(run.run_id)
    with pytest.raises(ConflictError):
        backend.log_batch(run.run_id, params={"p": "1"})
    backend.restore_run(run.run_id)
    with pytest.raises(NotFoundError):
        backend.get_run("0" * 32)
    with pytest.raises(AlreadyExistsError):
        _run(backend, run_id=run.run_id)


def test_last_activity_is_the_latest_metric_else_the_start(backend: Backend) -> None:
    quiet = _run(backend, start_time=1_000)
    busy = _run(backend, start_time=2_000)
    backend.log_batch(busy.run_id, [Metric("a", 1.0, 9_000, 1), Metric("b", 1.0, 7_000, 5)])
    backend.log_batch(busy.run_id, [Metric("a", 2.0, 8_000, 2)])  # a later step, older clock
    got = backend.last_activity([quiet.run_id, busy.run_id, "f" * 32])
    assert got == {quiet.run_id: 1_000, busy.run_id: 8_000}


def test_run_id_prefixes_are_unique_in_the_whole_store(backend: Backend) -> None:
    a = _run(backend, run_id="abcdef12" + "0" * 24).run_id
    b = _run(backend, run_id="abcdef12" + "0" * 3 + "1" + "0" * 20).run_id
    lone = _run(backend, run_id="12345678" + "9" * 24).run_id
    hidden = _run(backend, exp="other", run_id="abcdef13" + "0" * 24).run_id
    backend.delete_run(hidden)  # deleted runs still take the prefix
    got = backend.run_id_prefixes([a, b, lone])
    assert got == {a: "abcdef120000", b: "abcdef120001", lone: "12345678"}
    assert backend.run_id_prefixes([lone], min_length=4) == {lone: "1234"}
    assert backend.run_id_prefixes([hidden], min_length=4) == {hidden: "abcdef13"}


def test_search_runs_takes_ids_and_refuses_names(backend: Backend) -> None:
    run = _run(backend, exp="named")
    exp_id = run.experiment_id
    assert [r.run_id for r in backend.search_runs([exp_id]).items] == [run.run_id]
    with pytest.raises(ValidationError) as err:
        backend.search_runs(["named"])
    assert "named" in err.value.message


# -- logging -------------------------------------------------------------------


def test_log_batch_and_history(backend: Backend) -> None:
    run = _run(backend)
    ts = _ms()
    backend.log_batch(
        run.run_id,
        [Metric("loss", 1.0 / (i + 1), ts, i) for i in range(10)] + [Metric("nan", math.nan, ts)],
        params={"lr": "0.01"},
        tags={"stage": "dev"},
    )
    history = backend.get_metric_history(run.run_id, "loss")
    assert [m.step for m in history] == list(range(10))
    assert len(backend.get_metric_history(run.run_id, "loss", max_points=4)) <= 4
    got = backend.get_run(run.run_id)
    assert got.params == {"lr": "0.01"} and math.isnan(got.metrics["nan"])
    with pytest.raises(ConflictError):
        backend.log_batch(run.run_id, params={"lr": "0.1"})


@pytest.mark.parametrize(
    ("metric", "needle"),
    [
        (Metric("m", 1.0, 0, 1.5), "step 1.5"),  # type: ignore[arg-type]
        (Metric("m", 1.0, 0, Fraction(3, 2)), "step"),  # type: ignore[arg-type]
        (Metric("m", 1.0, 0.5, 1), "timestamp 0.5"),  # type: ignore[arg-type]
        (Metric("m", 1.0, 0, 2**63), "64 bits"),
        (Metric("m", 1.0, -(2**63) - 1, 0), "64 bits"),
        (Metric("m", 10**400, 0, 0), "too large"),
        (Metric("m", "0.5", 0, 0), "not a number"),  # type: ignore[arg-type]
        (Metric("m", 1.0, 0, math.inf), "step inf"),  # type: ignore[arg-type]
    ],
)
def test_log_batch_refuses_values_it_cannot_store_exactly(
    backend: Backend, metric: Metric, needle: str
) -> None:
    run = _run(backend)
    good = Metric("ok", 1.0, 0, 0)
    with pytest.raises(ValidationError) as err:
        backend.log_batch(run.run_id, [good, metric], params={"p": "1"})
    assert needle in err.value.message and "'m'" in err.value.message
    got = backend.get_run(run.run_id)
    assert got.metrics == {} and got.params == {}  # nothing of the batch was written


def test_integral_steps_of_any_number_type_are_kept_exactly(backend: Backend) -> None:
    run = _run(backend)
    big = 2**63 - 1
    backend.log_batch(
        run.run_id,
        [
            Metric("m", 1.0, 10, 2.0),  # type: ignore[arg-type]
            Metric("m", 2.0, 10, Fraction(6, 2)),  # type: ignore[arg-type]
            Metric("m", 3, 10, big),
            Metric("m", 4.0, 10.0, -5),  # type: ignore[arg-type]
        ],
    )
    history = backend.get_metric_history(run.run_id, "m")
    assert [(m.step, m.value) for m in history] == [(-5, 4.0), (2, 1.0), (3, 2.0), (big, 3.0)]
    assert all(type(m.step) is int for m in history)


def test_inputs_round_trip_with_the_modified_flag(backend: Backend) -> None:
    run = _run(backend)
    clean = RunInput("data/a", "ab" * 32, 10, "directory", "c" * 40, "train")
    dirty = RunInput("data/b", "cd" * 32, 5, "file", None, None, modified=True)
    backend.log_inputs(run.run_id, [clean, dirty, clean])
    assert backend.get_run(run.run_id).inputs == (clean, dirty)


# -- artifacts -----------------------------------------------------------------


def test_artifact_bytes_and_rows(backend: Backend, tmp_path: Path) -> None:
    run = _run(backend)
    (tmp_path / "a.txt").write_text("same\n")
    (tmp_path / "b.txt").write_text("same\n")
    stored = backend.put_files([tmp_path / "a.txt", tmp_path / "b.txt"])
    assert stored[0] == stored[1] and stored[0][1] == 5
    backend.log_artifacts(
        run.run_id, [Artifact("r/a.txt", *stored[0]), Artifact("r2/b.txt", *stored[1])]
    )
    assert [a.path for a in backend.list_artifacts(run.run_id, "r")] == ["r/a.txt"]
    assert stored[0][0] in backend.artifact_hashes()
    backend.get_file(stored[0][0], tmp_path / "out" / "a.txt")
    assert (tmp_path / "out" / "a.txt").read_text() == "same\n"


# -- model registry --------------------------------------------------------------


def _tree(i: int) -> str:
    return f"{i:064x}"


def test_registry_methods_are_part_of_the_contract() -> None:
    expected = {
        "create_registered_model", "get_registered_model", "list_registered_models",
        "update_registered_model", "delete_registered_model", "restore_registered_model",
        "set_registered_model_tag", "delete_registered_model_tag", "create_model_version",
        "get_model_version", "get_latest_version", "list_model_versions",
        "update_model_version", "set_model_version_tag", "delete_model_version_tag",
        "delete_model_version", "restore_model_version", "set_registered_model_alias",
        "delete_registered_model_alias", "rollback_registered_model_alias",
        "get_model_version_by_alias", "get_alias_history", "get_model_version_at",
        "get_aliases_at", "create_logged_model", "get_logged_model", "list_logged_models",
        "log_outputs", "list_outputs",
    }  # fmt: skip
    assert expected <= Backend.__abstractmethods__


def test_registered_models_and_versions(backend: Backend) -> None:
    run = _run(backend)
    created = backend.create_registered_model("rag", "Embeds", {"team": "search"})
    assert (created.name, created.description, created.tags) == (
        "rag",
        "Embeds",
        {"team": "search"},
    )
    with pytest.raises(AlreadyExistsError):
        backend.create_registered_model("rag")
    mv, new = backend.create_model_version(
        "rag", f"runs:/{run.run_id}/model", _tree(1), run_id=run.run_id, flavor="sklearn",
        semver="1.0.0", description="first", tags={"k": "v"}, user="ann",
    )  # fmt: skip
    assert new and (mv.version, mv.semver, mv.user, mv.tags) == (1, "1.0.0", "ann", {"k": "v"})
    assert backend.create_model_version("rag", "src", _tree(1)) == (mv, False)
    backend.create_model_version("rag", "src", _tree(2))
    assert backend.get_model_version("rag", 1) == mv
    assert backend.get_latest_version("rag").version == 2
    assert [v.version for v in backend.list_model_versions("rag")] == [1, 2]
    assert backend.update_model_version("rag", 2, "second").description == "second"
    backend.set_model_version_tag("rag", 2, "a", "b")
    backend.delete_model_version_tag("rag", 2, "a")
    assert backend.get_model_version("rag", 2).tags == {}
    backend.set_registered_model_tag("rag", "owner", "ann")
    backend.delete_registered_model_tag("rag", "team")
    assert backend.update_registered_model("rag", "x").tags == {"owner": "ann"}
    assert [m.latest_version for m in backend.list_registered_models()] == [2]
    backend.delete_model_version("rag", 2)
    assert backend.list_model_versions("rag", ViewType.DELETED_ONLY)[0].version == 2
    backend.restore_model_version("rag", 2)
    backend.delete_registered_model("rag")
    assert backend.list_registered_models() == []
    backend.restore_registered_model("rag")
    assert backend.get_registered_model("rag").lifecycle_stage == Lifecycle.ACTIVE
    with pytest.raises(NotFoundError, match="no version 3"):
        backend.get_model_version("rag", 3)
    with pytest.raises(ValidationError):
        backend.create_model_version("a/b", "src", _tree(1))


def test_aliases_history_and_time(backend: Backend) -> None:
    for i in (1, 2, 3):
        backend.create_model_version("rag", "src", _tree(i))
    before = _ms() - 1
    for v in (1, 2, 3):
        backend.set_registered_model_alias("rag", "production", v, f"to {v}", user="ann")
    back = backend.rollback_registered_model_alias("rag", "production", user="bob")
    assert (back.kind, back.from_version, back.to_version, back.user) == ("rollback", 3, 2, "bob")
    assert backend.get_model_version_by_alias("rag", "production").version == 2
    assert backend.get_model_version("rag", 2).aliases == ("production",)
    assert backend.get_model_version_at("rag", "production", before) is None
    assert backend.get_model_version_at("rag", "production", _ms() + 1).version == 2
    assert backend.get_aliases_at("rag") == {"production": 2}
    assert backend.get_aliases_at("rag", before) == {}
    with pytest.raises(ConflictError, match="holds the alias") as info:
        backend.delete_model_version("rag", 2)
    assert "--force" in (info.value.hint or "")
    backend.delete_model_version("rag", 2, force=True, user="cy")
    removed = backend.get_alias_history("rag", "production")[-1]
    assert (removed.kind, removed.to_version, removed.user) == ("delete", None, "cy")
    backend.set_registered_model_alias("rag", "staging", 1)
    gone = backend.delete_registered_model_alias("rag", "staging", "done")
    assert (gone.from_version, gone.to_version) == (1, None)
    assert [e.alias for e in backend.get_alias_history("rag")][-2:] == ["staging", "staging"]
    with pytest.raises(NotFoundError, match="no alias 'prod'"):
        backend.get_model_version_by_alias("rag", "prod")
    with pytest.raises(ValidationError, match="reserved"):
        backend.set_registered_model_alias("rag", "latest", 1)


def test_logged_models_and_outputs(backend: Backend) -> None:
    from loom.store.entities import RunOutput

    run = _run(backend)
    lm = backend.create_logged_model(
        run.experiment_id, "model", _tree(1), "sklearn", run_id=run.run_id, tags={"a": "b"}
    )
    assert backend.get_logged_model(lm.model_id) == lm
    assert backend.list_logged_models(run.run_id) == [lm]
    with pytest.raises(NotFoundError):
        backend.get_logged_model("m-" + "0" * 32)
    outs = [RunOutput("model", _tree(1), 12, "model")]
    backend.log_outputs(run.run_id, outs)
    assert backend.list_outputs(run.run_id) == outs
