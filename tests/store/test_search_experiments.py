from __future__ import annotations

from pathlib import Path

import pytest

from loom.errors import ValidationError
from loom.store import Store, ViewType

SPECS = [
    ("rag-embedding", {"team": "search"}),
    ("rag-rerank", {"team": "Search"}),
    ("vision", {"team": "cv", "prod": "yes"}),
    ("Vision-2", {}),
]
FILTERS = [
    "",
    "name = 'vision'",
    "name LIKE 'rag%'",
    "name ILIKE 'vision%'",
    "attribute.name != 'vision'",
    "tags.team = 'search'",
    "tags.team ILIKE 'search'",
    "tags.prod = 'yes' and name LIKE 'v%'",
]
# by name only: creation times tie when two experiments are made in one millisecond,
# and would tie differently in the two stores
ORDERS = [["name ASC"], ["name DESC"]]


def _fill(store) -> None:
    for name, tags in SPECS:
        store.create_experiment(name, tags=tags)


def _names(page) -> list[str]:
    return [e.name for e in page.items]


def test_filters_or_and_order(store: Store) -> None:
    _fill(store)
    search = store.search_experiments
    assert _names(
        search(filter_string="name LIKE 'rag%' or tags.prod = 'yes'", order_by=["name"])
    ) == [
        "rag-embedding",
        "rag-rerank",
        "vision",
    ]
    assert _names(search(filter_string="tags.team IS NULL", order_by=["name"])) == [
        "Default",
        "Vision-2",
    ]
    assert _names(search(filter_string="experiment_id IN ('0', 'x')")) == ["Default"]
    first = search(order_by=["name ASC"], max_results=2)
    rest = search(order_by=["name ASC"], max_results=2, page_token=first.next_page_token)
    assert _names(first) + _names(rest) + _names(
        search(order_by=["name ASC"], max_results=2, page_token=rest.next_page_token)
    ) == sorted(["Default", *(n for n, _ in SPECS)])
    store.delete_experiment(search(filter_string="name = 'vision'").items[0].experiment_id)
    assert _names(search(ViewType.DELETED_ONLY)) == ["vision"]
    with pytest.raises(ValidationError, match="unknown prefix 'metrics'"):
        search(filter_string="metrics.a > 1")
    with pytest.raises(ValidationError, match="LIKE does not apply to experiment_id"):
        search(filter_string="experiment_id LIKE '1%'")


def test_matches_mlflow(sqlite_store: Store, tmp_path: Path) -> None:
    from mlflow.entities import ExperimentTag
    from mlflow.entities import ViewType as MfView
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    mf = SqlAlchemyStore(f"sqlite:///{tmp_path / 'mlflow.db'}", str(tmp_path / "artifacts"))
    for name, tags in SPECS:
        mf.create_experiment(name, tags=[ExperimentTag(k, v) for k, v in tags.items()])
        sqlite_store.create_experiment(name, tags=tags)
    for filter_string in FILTERS:
        for order in ORDERS:
            expected = [
                e.name
                for e in mf.search_experiments(MfView.ACTIVE_ONLY, 1000, filter_string, order)
            ]
            got = _names(
                sqlite_store.search_experiments(filter_string=filter_string, order_by=order)
            )
            assert got == expected, (filter_string, order)
