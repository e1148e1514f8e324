"""Aliases as events, on SQLite and PostgreSQL: promote, delete, rollback (an undo stack),
the alias now and at any time, history, and errors that name what exists."""

from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import insert

from loom.errors import ConflictError, NotFoundError, ValidationError
from loom.store import Store
from loom.store.entities import AliasEventKind
from loom.store.schema import AliasEventRow

T0 = 1_773_576_000_000  # 2026-03-15T12:00Z


def tree(i: int) -> str:
    return f"{i:064x}"


@pytest.fixture
def model(store: Store) -> str:
    for i in range(1, 6):
        store.create_model_version("rag", "src", tree(i))
    return "rag"


def test_promote_moves_the_alias_and_keeps_every_move(store: Store, model: str) -> None:
    e1 = store.set_registered_model_alias(model, "production", 1, "first", user="ann")
    e2 = store.set_registered_model_alias(model, "production", "3", user="bob")
    assert (e1.from_version, e1.to_version, e1.kind, e1.comment) == (None, 1, "set", "first")
    assert (e2.from_version, e2.to_version, e2.user) == (1, 3, "bob")
    assert store.get_model_version_by_alias(model, "production").version == 3
    assert store.get_model_version(model, 3).aliases == ("production",)
    assert store.get_model_version(model, 1).aliases == ()
    store.set_registered_model_alias(model, "staging", 3)
    assert store.get_model_version(model, 3).aliases == ("production", "staging")
    assert store.get_registered_model(model).aliases == {"production": 3, "staging": 3}
    assert store.get_alias_history(model, "production") == [e1, e2]
    assert [e.alias for e in store.get_alias_history(model)] == [
        "production",
        "production",
        "staging",
    ]


def test_promoting_to_the_same_version_is_still_an_event(store: Store, model: str) -> None:
    store.set_registered_model_alias(model, "production", 2)
    again = store.set_registered_model_alias(model, "production", 2, "re-approved")
    assert (again.from_version, again.to_version) == (2, 2)
    assert len(store.get_alias_history(model, "production")) == 2


def test_delete_alias(store: Store, model: str) -> None:
    store.set_registered_model_alias(model, "production", 2)
    event = store.delete_registered_model_alias(model, "production", "retired")
    assert (event.kind, event.from_version, event.to_version) == ("delete", 2, None)
    assert store.get_registered_model(model).aliases == {}
    with pytest.raises(NotFoundError, match="points at no version now"):
        store.get_model_version_by_alias(model, "production")
    with pytest.raises(NotFoundError, match="points at no version now"):
        store.delete_registered_model_alias(model, "production")
    store.set_registered_model_alias(model, "production", 4)  # set again after a delete
    assert store.get_model_version_by_alias(model, "production").version == 4


def test_rollback_twice_walks_back_two_steps(store: Store, model: str) -> None:
    for v in (1, 2, 3):
        store.set_registered_model_alias(model, "production", v)
    first = store.rollback_registered_model_alias(model, "production", "bad recall", user="ann")
    assert (first.kind, first.from_version, first.to_version) == ("rollback", 3, 2)
    second = store.rollback_registered_model_alias(model, "production")
    assert (second.from_version, second.to_version) == (2, 1)  # not back to 3: no ping-pong
    assert store.get_model_version_by_alias(model, "production").version == 1
    with pytest.raises(ConflictError, match="no version held it before") as info:
        store.rollback_registered_model_alias(model, "production")
    assert "loom models history rag --alias production" in (info.value.hint or "")
    assert len(store.get_alias_history(model, "production")) == 5


def test_rollback_after_new_moves_undoes_the_newest_first(store: Store, model: str) -> None:
    store.set_registered_model_alias(model, "production", 1)
    store.set_registered_model_alias(model, "production", 2)
    store.rollback_registered_model_alias(model, "production")  # -> 1, undoes the move to 2
    store.set_registered_model_alias(model, "production", 3)
    store.set_registered_model_alias(model, "production", 4)
    assert store.rollback_registered_model_alias(model, "production").to_version == 3
    assert store.rollback_registered_model_alias(model, "production").to_version == 1
    with pytest.raises(ConflictError, match="Nothing to roll back"):
        store.rollback_registered_model_alias(model, "production")


def test_rollback_undoes_a_delete_and_refuses_a_deleted_target(store: Store, model: str) -> None:
    store.set_registered_model_alias(model, "production", 1)
    store.set_registered_model_alias(model, "production", 2)
    store.delete_registered_model_alias(model, "production")
    assert store.rollback_registered_model_alias(model, "production").to_version == 2
    store.delete_model_version(model, 1)
    with pytest.raises(ConflictError, match=r"version 1 .* is deleted") as info:
        store.rollback_registered_model_alias(model, "production")
    assert "loom models restore rag 1" in (info.value.hint or "")
    assert store.get_model_version_by_alias(model, "production").version == 2


def test_an_alias_points_only_at_an_active_version(store: Store, model: str) -> None:
    store.delete_model_version(model, 5)
    with pytest.raises(ConflictError, match="Version 5 of 'rag' is deleted"):
        store.set_registered_model_alias(model, "production", 5)
    with pytest.raises(NotFoundError, match="has no version 6: its versions are 1-5"):
        store.set_registered_model_alias(model, "production", 6)
    with pytest.raises(NotFoundError, match="No registered model named 'ragg'"):
        store.set_registered_model_alias("ragg", "production", 1)
    assert store.get_alias_history(model) == []


@pytest.mark.parametrize(
    "alias", ["Production", "prod uction", "latest", "v1", "v123", "", "a/b", "ä", "x" * 251, 3]
)
def test_bad_aliases_are_refused(store: Store, model: str, alias: object) -> None:
    with pytest.raises(ValidationError, match="Invalid alias"):
        store.set_registered_model_alias(model, alias, 1)  # type: ignore[arg-type]
    assert store.get_alias_history(model) == []


def test_aliases_that_look_like_versions_but_are_not_reserved_pass(
    store: Store, model: str
) -> None:
    for alias in ["v", "v1a", "version1", "1", "prod_v2", "a-b_c"]:
        assert store.set_registered_model_alias(model, alias, 1).alias == alias


def test_unknown_alias_names_the_aliases_that_exist(store: Store, model: str) -> None:
    store.set_registered_model_alias(model, "production", 2)
    store.set_registered_model_alias(model, "staging", 3)
    with pytest.raises(NotFoundError, match="production -> 2, staging -> 3") as info:
        store.get_model_version_by_alias(model, "prod")
    assert "loom models promote rag VERSION --alias prod" in (info.value.hint or "")
    with pytest.raises(NotFoundError, match="has no alias 'prod'"):
        store.get_alias_history(model, "prod")
    with pytest.raises(NotFoundError, match="has no alias 'prod'"):
        store.get_model_version_at(model, "prod", T0)
    with pytest.raises(NotFoundError, match="has no alias 'prod'"):
        store.rollback_registered_model_alias(model, "prod")


def test_alias_at_a_time(store: Store, model: str) -> None:
    store.set_registered_model_alias(model, "production", 1, time=T0)
    store.set_registered_model_alias(model, "production", 2, time=T0 + 1000)
    store.delete_registered_model_alias(model, "production", time=T0 + 2000)
    store.set_registered_model_alias(model, "production", 3, time=T0 + 3000)

    def at(t: int) -> int | None:
        found = store.get_model_version_at(model, "production", t)
        return None if found is None else found.version

    assert [at(t) for t in (T0 - 1, T0, T0 + 999, T0 + 1000, T0 + 2500, T0 + 10**9)] == [
        None, 1, 1, 2, None, 3,
    ]  # fmt: skip
    assert store.get_aliases_at(model, T0 + 500) == {"production": 1}
    assert store.get_aliases_at(model, T0 + 2500) == {}
    assert store.get_aliases_at(model) == {"production": 3}


def test_events_at_equal_timestamps_keep_their_order(store: Store, model: str) -> None:
    for v in (1, 2, 3):
        store.set_registered_model_alias(model, "production", v, time=T0)
    store.rollback_registered_model_alias(model, "production", time=T0)
    history = store.get_alias_history(model, "production")
    assert [(e.from_version, e.to_version) for e in history] == [(None, 1), (1, 2), (2, 3), (3, 2)]
    assert {e.time for e in history} == {T0}
    assert store.get_model_version_at(model, "production", T0).version == 2  # the last wins
    assert store.get_model_version_by_alias(model, "production").version == 2
    assert store.get_model_version_at(model, "production", T0 - 1) is None


def test_an_event_never_goes_before_the_previous_one(store: Store, model: str) -> None:
    """A writer whose clock is behind (another host) must not reorder the history."""
    store.set_registered_model_alias(model, "production", 1, time=T0 + 5000)
    late = store.set_registered_model_alias(model, "production", 2, time=T0)
    assert late.time == T0 + 5000
    assert store.get_model_version_by_alias(model, "production").version == 2
    assert store.get_model_version_at(model, "production", T0 + 5000).version == 2


def test_history_and_alias_queries_of_an_unknown_model(store: Store) -> None:
    for call in (
        lambda: store.get_alias_history("nope"),
        lambda: store.get_model_version_at("nope", "production", T0),
        lambda: store.get_model_version_by_alias("nope", "production"),
        lambda: store.get_aliases_at("nope"),
    ):
        with pytest.raises(NotFoundError, match="No registered model named 'nope'"):
            call()


def _bulk_history(store: Store, name: str, n: int, seed: int = 1) -> list[tuple[int, int | None]]:
    """``n`` events of 'production' straight into the table (10,000 promotions one by one
    would take minutes); returns (time, to_version) in order, as the store would write."""
    rng = random.Random(seed)
    rows, events, current, t = [], [], None, T0
    for _ in range(n):
        t += rng.choice((0, 0, 1, 7, 1000))  # equal timestamps included
        target = None if rng.random() < 0.05 else rng.randint(1, 5)
        kind = AliasEventKind.DELETE if target is None else AliasEventKind.SET
        rows.append(
            {"name": name, "alias": "production", "from_version": current, "to_version": target,
             "kind": kind.value, "time": t, "user": "bulk", "comment": None}
        )  # fmt: skip
        events.append((t, target))
        current = target
    with store._write() as conn:
        for i in range(0, n, 2000):
            conn.execute(insert(AliasEventRow), rows[i : i + 2000])
    return events


def _replay(events: list[tuple[int, int | None]], at: int) -> int | None:
    held = None
    for t, target in events:
        if t > at:
            break
        held = target
    return held


def test_alias_at_time_with_10000_events_is_right_and_fast(store: Store, model: str) -> None:
    events = _bulk_history(store, model, 10_000)
    last_time = events[-1][0]
    rng = random.Random(2)
    probes = [T0 - 1, T0, last_time, last_time + 1] + [
        rng.randint(T0, last_time) for _ in range(200)
    ]
    probes += [t for t, _ in events[::500]]  # exactly at event times (often shared)
    started = time.perf_counter()
    for t in probes:
        found = store.get_model_version_at(model, "production", t)
        assert (None if found is None else found.version) == _replay(events, t), t
    per_query = (time.perf_counter() - started) / len(probes)
    assert per_query < 0.05, f"{per_query * 1000:.1f} ms per alias-at-time query"
    assert store.get_aliases_at(model, last_time).get("production") == events[-1][1]
    assert len(store.get_alias_history(model, "production")) == 10_000
    # a new move continues where the bulk history ends
    assert store.set_registered_model_alias(model, "production", 1).from_version == events[-1][1]


def test_every_alias_of_every_model_is_found(store: Store, model: str) -> None:
    """Aliases whose names sort next to each other (the skip scan steps from one to the
    next), a deleted one, and a second model with its own."""
    names = ["a", "a-b", "a_b", "a0", "ab", "b", "production", "z-9"]
    for i, alias in enumerate(names):
        store.set_registered_model_alias(model, alias, 1 + i % 5)
    store.delete_registered_model_alias(model, "a_b")
    store.create_model_version("other", "src", tree(1))
    store.set_registered_model_alias("other", "production", 1)
    expected = {a: 1 + i % 5 for i, a in enumerate(names) if a != "a_b"}
    assert store.get_aliases_at(model) == expected
    assert store.get_registered_model(model).aliases == expected
    listed = {m.name: m.aliases for m in store.list_registered_models()}
    assert listed == {model: expected, "other": {"production": 1}}
    assert store.get_model_version(model, 1).aliases == ("a", "b")
