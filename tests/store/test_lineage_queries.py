"""The store's lineage queries: runs by the hashes they read, produced or logged; each an
index lookup (checked on SQLite's query plans), the same answer on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from loom.errors import ValidationError
from loom.objects.hashing import hash_bytes
from loom.store import Store
from loom.store.entities import Artifact, DataLink, RunInput, RunOutput

H = {name: hash_bytes(name.encode()) for name in ("raw", "proc", "file", "unread", "model")}


def _runs(store: Store) -> tuple[str, str]:
    exp = store.create_experiment("e").experiment_id
    a, b = store.create_run(exp, name="a").run_id, store.create_run(exp, name="b").run_id
    store.log_inputs(a, [RunInput("data/raw", H["raw"], 10, "directory", "c0ffee")])
    store.log_outputs(a, [RunOutput("processed", H["proc"], 8, "directory")])
    store.log_artifacts(a, [Artifact("processed/x.csv", H["file"], 4),
                            Artifact("processed/y.csv", H["unread"], 4)])  # fmt: skip
    store.log_inputs(b, [RunInput("processed", H["proc"], 8, "directory"),
                         RunInput("x.csv", H["file"], 4, modified=True)])  # fmt: skip
    return a, b


def test_links_by_hash_and_by_run(store: Store) -> None:
    a, b = _runs(store)
    made = store.links_by_hash([H["proc"], H["file"]], roles=("output", "artifact"))
    assert made == sorted(
        [
            DataLink(H["proc"], a, "output", "processed", "directory", 8),
            DataLink(H["file"], a, "artifact", "processed/x.csv", "file", 4),
        ],
        key=lambda k: k.hash,
    )
    read = store.links_by_hash([H["file"], H["raw"]], roles=("input",))
    assert {(k.run_id, k.path, k.modified, k.git_rev) for k in read} == {
        (b, "x.csv", True, None),
        (a, "data/raw", False, "c0ffee"),
    }
    assert {(k.role, k.path) for k in store.links_by_run([a])} == {
        ("input", "data/raw"),
        ("output", "processed"),
    }
    assert store.links_by_hash([H["model"]]) == []


def test_consumed_artifacts_are_only_those_some_run_read(store: Store) -> None:
    a, b = _runs(store)
    assert [k.path for k in store.consumed_artifacts([a, b])] == ["processed/x.csv"]


def test_get_runs_leaves_unknown_ids_out(store: Store) -> None:
    a, b = _runs(store)
    store.delete_run(b)
    runs = {r.run_id: r for r in store.get_runs([a, b, "f" * 32])}
    assert set(runs) == {a, b} and runs[a].inputs[0].path == "data/raw"
    assert str(runs[b].lifecycle_stage) == "deleted"  # lineage still shows what it made


def test_unknown_role_is_refused(store: Store) -> None:
    with pytest.raises(ValidationError, match="Unknown link role"):
        store.links_by_hash([H["raw"]], roles=("parents",))


def test_each_lookup_uses_an_index(sqlite_store: Store) -> None:
    a, _b = _runs(sqlite_store)
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    engine = sqlite_store._engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        sqlite_store.links_by_hash([H["proc"]])
        sqlite_store.links_by_run([a], roles=("input", "output", "artifact"))
        sqlite_store.consumed_artifacts([a])
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) == 7
    with engine.connect() as conn:
        for statement, params in seen:
            plan = " | ".join(
                row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            )
            for table in ("inputs", "outputs", "artifacts"):
                assert f"SCAN {table}" not in plan, (statement, plan)
