from __future__ import annotations

import pytest

from loom.errors import ValidationError
from loom.store import Metric, Store, ViewType
from loom.store.search.parser import And, Cmp, Or, parse_filter, parse_order_by


def _names(page) -> list[str]:
    return [r.name for r in page.items]


@pytest.fixture
def exp(store: Store) -> str:
    eid = store.create_experiment("s").experiment_id
    for i, (acc, lr, team) in enumerate(
        [(0.9, "0.01", "a"), (0.5, "0.1", "b"), (0.7, "0.01", "b"), (0.2, "it's", "a")]
    ):
        run = store.create_run(eid, name=f"r{i}", start_time=1000 + i)
        store.log_batch(
            run.run_id, [Metric("acc", acc, 1, 0)], params={"lr": lr}, tags={"team": team}
        )
    return eid


def test_parser_builds_or_and_tree() -> None:
    node = parse_filter("attributes.status = 'q' OR (metrics.m > 1 and tags.`t t` LIKE \"%z\")")
    assert isinstance(node, Or)
    left, right = node.items
    assert left == Cmp("attribute", "status", "=", "q", 0)
    assert isinstance(right, And)
    assert right.items[1] == Cmp("tag", "t t", "LIKE", "%z", right.items[1].pos)


def test_parser_rejects_unknown_attribute_prefix_in_position() -> None:
    with pytest.raises(ValidationError) as info:
        parse_filter("metrics.a > 1 and foo.bar = 'x'")
    err = info.value
    assert err.fields["position"] == 18
    assert "unknown prefix 'foo'" in err.message and "position 19" in err.message
    assert err.hint and "metrics.acc" in err.hint


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("params.lr = 'abc", "unterminated quote '"),
        ("metrics.acc LIKE 'a%'", "LIKE does not apply to the number metrics.acc"),
        ("metrics.acc > '1'", "compares with a number"),
        ("params.lr = 0.01", "quote the value"),
        ("params.lr ~ 'x'", "unexpected character '~'"),
        ("params.lr 'x'", "expected an operator"),
        ("(params.lr = 'x'", "expected ')'"),
        ("params.lr = 'x' params.b = 'y'", "expected AND, OR or the end"),
        ("attributes.color = 'red'", "unknown attribute 'color'"),
        ("attributes.status < 'A'", "< does not apply to attributes.status"),
        ("params.lr IN 'x'", "needs a list in parentheses"),
        ("metrics. > 1", "expected a key after metrics."),
        ("lr = 'x'", "needs a prefix"),
        ("attributes.status IS NULL", "IS NULL works on metrics, params and tags"),
    ],
)
def test_bad_filters_say_what_and_where(store: Store, text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match="Invalid filter at position") as info:
        store.search_runs(["0"], text)
    assert problem in info.value.message


def test_filters_past_the_size_limits_are_validation_errors(store: Store, exp: str) -> None:
    """Nesting deeper than the parser's stack and more terms than SQLite's expression depth
    were a RecursionError and a database error; both are the caller's mistake."""
    from loom.store.search.parser import MAX_DEPTH, MAX_TERMS

    deep = "(" * 5000 + "metrics.m > 1" + ")" * 5000
    wide = " and ".join(f"metrics.m{i} > 1" for i in range(3000))
    for text, problem in ((deep, "nest"), (wide, "conditions")):
        with pytest.raises(ValidationError, match=problem):
            store.search_runs([exp], text)
    at_limit = "(" * MAX_DEPTH + "metrics.m > 1" + ")" * MAX_DEPTH
    assert store.search_runs([exp], at_limit).items == []
    most = " and ".join(f"metrics.m{i} > 1" for i in range(MAX_TERMS))
    assert store.search_runs([exp], most).items == []


def test_more_order_keys_than_the_limit_are_refused(store: Store, exp: str) -> None:
    from loom.store.search.parser import MAX_ORDER_KEYS

    keys = [f"metrics.m{i} DESC" for i in range(5000)]  # held a server for minutes
    with pytest.raises(ValidationError, match="order_by has 5000 clauses"):
        store.search_runs([exp], order_by=keys)
    with pytest.raises(ValidationError, match="order_by has 5000 clauses"):
        store.search_experiments(order_by=[f"tags.t{i}" for i in range(5000)])
    store.search_runs([exp], order_by=keys[:MAX_ORDER_KEYS])  # at the limit: answered


def test_order_by_parsing() -> None:
    assert parse_order_by("metrics.`val loss` DESC").key == "val loss"
    assert parse_order_by("tags.mlflow.runName").kind == "attribute"
    with pytest.raises(ValidationError):
        parse_order_by("metrics.acc SIDEWAYS")


def test_values_are_bound_not_formatted(store: Store, exp: str) -> None:
    assert _names(store.search_runs([exp], "params.lr = 'it''s'")) == ["r3"]
    assert _names(store.search_runs([exp], "params.lr = 'x'' OR ''1''=''1'")) == []
    assert _names(store.search_runs([exp], 'params.lr = "0.01\'; DROP TABLE runs; --"')) == []
    assert len(store.search_runs([exp]).items) == 4


def test_or_parentheses_and_default_order(store: Store, exp: str) -> None:
    page = store.search_runs([exp], "(metrics.acc > 0.8 or tags.team = 'b') and params.lr != '0.1'")
    assert _names(page) == ["r2", "r0"]  # start_time DESC


def test_paging(store: Store, exp: str) -> None:
    first = store.search_runs([exp], order_by=["metrics.acc DESC"], max_results=3)
    assert _names(first) == ["r0", "r2", "r1"] and first.next_page_token
    rest = store.search_runs(
        [exp], order_by=["metrics.acc DESC"], max_results=3, page_token=first.next_page_token
    )
    assert _names(rest) == ["r3"] and rest.next_page_token is None
    with pytest.raises(ValidationError, match="different search"):
        store.search_runs([exp], "metrics.acc > 0", page_token=first.next_page_token)
    with pytest.raises(ValidationError, match="Invalid page token"):
        store.search_runs([exp], page_token="not a token!")
    for bad in (0, 50_001):
        with pytest.raises(ValidationError, match="max_results"):
            store.search_runs([exp], max_results=bad)


def test_views_and_several_experiments(store: Store, exp: str) -> None:
    other = store.create_experiment("o").experiment_id
    store.create_run(other, name="x", start_time=5000)
    victim = store.search_runs([exp], "attributes.run_name = 'r1'").items[0]
    store.delete_run(victim.run_id)
    assert _names(store.search_runs([exp, other])) == ["x", "r3", "r2", "r0"]
    assert _names(store.search_runs([exp], view=ViewType.DELETED_ONLY)) == ["r1"]
    assert len(store.search_runs([exp], view=ViewType.ALL).items) == 4
    assert store.search_runs(["999"]).items == []


def test_duplicate_order_key_is_refused(store: Store, exp: str) -> None:
    with pytest.raises(ValidationError, match="twice"):
        store.search_runs([exp], order_by=["metrics.acc", "metrics.acc DESC"])


def test_unknown_view_is_a_validation_error(store: Store) -> None:
    with pytest.raises(ValidationError, match="Unknown view 'everything'"):
        store.search_runs(["0"], view="everything")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        store.list_experiments("everything")  # type: ignore[arg-type]
