"""Real processes at once on one store (SQLite and PostgreSQL): version numbers stay
distinct, and concurrent promotions of one alias are all kept, in order, chained."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

import pytest

from loom.store import open_store

WORKERS = 8


def tree(i: int) -> str:
    return f"{i:064x}"


def _run_all(target: Any, uri: str, n: int, *args: Any) -> list[Any]:
    """Start ``n`` processes, release them at once, return what each put in the queue."""
    ctx = mp.get_context("spawn")
    go, ready, results = ctx.Event(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(uri, i, go, ready, results, *args)) for i in range(n)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)  # every process has imported Loom and opened the store
    go.set()
    out = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0, f"worker exited with {p.exitcode}"
    errors = [r for r in out if isinstance(r, str)]
    assert not errors, errors
    return out


def _register(uri: str, index: int, go: Any, ready: Any, results: Any) -> None:
    try:
        store = open_store(uri)
        ready.put(index)
        go.wait()
        distinct = store.create_model_version("fresh", "src", tree(index), user=f"w{index}")
        same = store.create_model_version("shared", "src", tree(999))
        results.put((distinct[0].version, distinct[1], same[0].version, same[1]))
        store.close()
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(f"{type(exc).__name__}: {exc}")


def test_eight_processes_register_versions_of_one_new_name(store_uri: str) -> None:
    out = _run_all(_register, store_uri, WORKERS)
    assert sorted(r[0] for r in out) == list(range(1, WORKERS + 1))
    assert all(r[1] for r in out)
    # the same files registered by all at once: one version, created once
    assert {r[2] for r in out} == {1} and sum(r[3] for r in out) == 1
    store = open_store(store_uri)
    assert [v.version for v in store.list_model_versions("fresh")] == list(range(1, 9))
    assert store.create_model_version("fresh", "src", tree(100))[0].version == WORKERS + 1
    assert len(store.list_model_versions("shared")) == 1
    store.close()


MOVES = 6


def _promote(uri: str, index: int, go: Any, ready: Any, results: Any) -> None:
    try:
        store = open_store(uri)
        ready.put(index)
        go.wait()
        for i in range(MOVES):
            version = 1 + (index * MOVES + i) % 5
            store.set_registered_model_alias("rag", "production", version, f"w{index}-{i}")
        results.put(index)
        store.close()
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_promotions_of_one_alias_are_all_kept_in_order(
    store_uri: str, workers: int
) -> None:
    store = open_store(store_uri)
    for i in range(1, 6):
        store.create_model_version("rag", "src", tree(i))
    store.close()
    _run_all(_promote, store_uri, workers)
    store = open_store(store_uri)
    history = store.get_alias_history("rag", "production")
    assert len(history) == workers * MOVES  # no lost event
    previous = None
    for event in history:
        assert event.from_version == previous, history  # each starts where the last ended
        previous = event.to_version
    times = [e.time for e in history]
    assert times == sorted(times)
    for w in range(workers):  # each process's moves in the order it made them
        mine = [e.comment for e in history if e.comment.startswith(f"w{w}-")]
        assert mine == [f"w{w}-{i}" for i in range(MOVES)]
    assert store.get_model_version_by_alias("rag", "production").version == previous
    store.close()
