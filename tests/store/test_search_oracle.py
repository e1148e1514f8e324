"""The real MLflow (mlflow-skinny 3.17.2, SqlAlchemyStore on SQLite) as the oracle for search.

The same ~40 runs with tricky data go into MLflow and into Loom (SQLite and
PostgreSQL); every filter and order_by must give the same runs in the same
order (compared by run name, the ids differ).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import pytest

from loom.store import Metric, RunStatus, Store, open_store

N_RUNS = 40
T0 = 1_700_000_000_000


def _run_data(i: int, rng: random.Random) -> dict:
    """One run's data: missing keys, NaN, inf, ties, string params, mixed case."""
    metrics = []
    if i % 9 != 0:  # some runs lack "acc"
        acc = round(rng.random(), 2) if i % 5 else 0.5  # ties at 0.5
        acc = math.nan if i % 11 == 3 else acc
        acc = math.inf if i == 17 else acc
        metrics.append(("acc", acc, T0 + i, 0))
    # "loss": the latest is the highest step, not the last logged
    metrics += [("loss", 0.1 * (i % 7), T0 + 100, 5), ("loss", 9.0, T0 + 200, 2)]
    if i % 4:
        metrics.append(("val loss", round(rng.random(), 3), T0, 0))
    if i % 6 == 1:
        metrics.append(("m.x.y", float(i - 20), T0, 0))
    params = {}
    if i % 8 != 5:
        params["lr"] = ("0.01", "1e-2", "0.001", "0.1")[i % 4]
    params["batch"] = ("128", "16", "32", "8", "1024")[i % 5]
    if i % 3 == 0:
        params["name"] = ("Alpha", "alpha", "ALPHA", "beta", "Beta")[i % 5]
    tags = {}
    if i % 7 != 2:
        tags["team"] = ("Search", "search", "ranking", "SEARCH", "rank_ing")[i % 5]
    if i % 10 == 4:
        tags["my tag"] = "x y"
    return {
        "name": f"r{i:02d}",
        "start_time": T0 + 1000 * ((i * 7) % N_RUNS),  # distinct, not in name order
        "user": ("ana", "bo", "Ana")[i % 3],
        "status": ("RUNNING", "FINISHED", "FAILED", "FINISHED")[i % 4],
        "end_time": None if i % 4 == 0 else T0 + 50_000 + i,
        "metrics": metrics,
        "params": params,
        "tags": tags,
    }


DATA = [_run_data(i, random.Random(i)) for i in range(N_RUNS)]

FILTERS = [
    "",
    "metrics.acc > 0.5",
    "metrics.acc >= 0.5",
    "metrics.acc < 0.5",
    "metrics.acc <= 0.3",
    "metrics.acc = 0.5",
    "metrics.acc != 0.5",
    "metrics.loss < 0.35",
    "metrics.loss = 9",
    "metrics.`val loss` > 0.2",
    'metrics."val loss" <= 0.7',
    "metrics.`m.x.y` > 0",
    "metrics.acc > 1e308",
    "params.lr = '0.01'",
    "params.lr != '0.01'",
    'params.lr = "1e-2"',
    "params.batch LIKE '1%'",
    "params.batch = '16'",
    "params.name LIKE 'a%'",
    "params.name ILIKE 'a%'",
    "params.name = 'Alpha'",
    "params.name != 'beta'",
    "params.lr IS NULL",
    "params.name IS NOT NULL",
    "tags.team = 'search'",
    "tags.team != 'search'",
    "tags.team ILIKE 'SEARCH'",
    "tags.team LIKE '%ear%'",
    "tags.team LIKE 'rank_ing'",
    "tags.`my tag` = 'x y'",
    "tags.team IS NULL",
    "attributes.status = 'FINISHED'",
    "attributes.status != 'RUNNING'",
    "attributes.run_name = 'r07'",
    "attributes.run_name LIKE 'r1%'",
    "attributes.run_name ILIKE 'R2%'",
    "tags.mlflow.runName = 'r05'",
    f"attributes.start_time > {T0 + 20_000}",
    f"attributes.created <= {T0 + 5_000}",
    f"attributes.end_time > {T0 + 50_020}",
    "attributes.user_id = 'ana'",
    "metrics.acc > 0.2 and params.lr = '0.01'",
    "metrics.acc > 0.2 and tags.team != 'search' and params.batch = '128'",
    "metrics.acc != 0.5 and metrics.loss > 0.1",
    "params.batch != '16' and attributes.status = 'FINISHED'",
]

# Loom's extensions (OR, parentheses, IN beyond run_id): the expected runs are the
# union of MLflow answers to the AND-only parts, in MLflow's default order.
EXTENSIONS = {
    "attributes.status IN ('FINISHED', 'FAILED')": [
        "attributes.status = 'FINISHED'",
        "attributes.status = 'FAILED'",
    ],
    "attributes.status NOT IN ('FINISHED')": ["attributes.status != 'FINISHED'"],
    "params.batch IN ('16', '32')": ["params.batch = '16'", "params.batch = '32'"],
    "params.batch NOT IN ('16', '32')": ["params.batch != '16' and params.batch != '32'"],
    "metrics.acc IN (0.5, 0.2)": ["metrics.acc = 0.5", "metrics.acc = 0.2"],
    "metrics.acc > 0.8 OR params.lr = '0.1'": ["metrics.acc > 0.8", "params.lr = '0.1'"],
    "(metrics.acc > 0.5 or tags.team = 'search') and params.batch = '16'": [
        "metrics.acc > 0.5 and params.batch = '16'",
        "tags.team = 'search' and params.batch = '16'",
    ],
    "tags.team = 'ranking' or (metrics.loss < 0.2 and attributes.status = 'FAILED')": [
        "tags.team = 'ranking'",
        "metrics.loss < 0.2 and attributes.status = 'FAILED'",
    ],
    "((params.lr = '0.01')) OR params.lr = '1e-2' OR params.lr IS NULL": [
        "params.lr = '0.01'",
        "params.lr = '1e-2'",
        "params.lr IS NULL",
    ],
}

ORDERS = [
    None,
    ["metrics.acc DESC"],
    ["metrics.acc ASC"],
    ["metrics.acc"],
    ["metrics.loss DESC"],
    ["metrics.`val loss` ASC"],
    ["params.batch ASC"],
    ["params.batch DESC"],
    ["params.name DESC"],
    ["tags.team DESC"],
    ["tags.team ASC"],
    ["attributes.start_time ASC"],
    ["attributes.run_name DESC"],
    ["attributes.end_time DESC"],
    ["attributes.end_time ASC"],
    ["params.lr ASC", "metrics.acc DESC"],
    ["attributes.status ASC", "metrics.loss ASC"],
]


@pytest.fixture(scope="module")
def mlflow_names(tmp_path_factory: pytest.TempPathFactory):
    """A function (filter, order_by, max_results) -> run names, answered by MLflow."""
    from mlflow.entities import Metric as MfMetric
    from mlflow.entities import Param, RunTag, ViewType
    from mlflow.entities import RunStatus as MfStatus
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    root = tmp_path_factory.mktemp("mlflow")
    mf = SqlAlchemyStore(f"sqlite:///{root / 'mlflow.db'}", str(root / "artifacts"))
    exp_id = mf.create_experiment("oracle")
    for d in DATA:
        run = mf.create_run(exp_id, d["user"], d["start_time"], [], d["name"])
        rid = run.info.run_id
        mf.log_batch(
            rid,
            [MfMetric(k, v, ts, step) for k, v, ts, step in d["metrics"]],
            [Param(k, v) for k, v in d["params"].items()],
            [RunTag(k, v) for k, v in d["tags"].items()],
        )
        if d["status"] != "RUNNING":
            mf.update_run_info(rid, MfStatus.from_string(d["status"]), d["end_time"], None)

    def search(filter_string: str, order_by: list[str] | None, max_results: int = 1000):
        names, token = [], None
        while True:
            runs = mf.search_runs(
                [exp_id], filter_string, ViewType.ACTIVE_ONLY, max_results, order_by, token
            )
            names += [r.info.run_name for r in runs]
            token = runs.token
            if not token:
                return names

    return search


@pytest.fixture(params=["walk", "from-matches"], autouse=True)
def plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Check both search plans: walking runs in sort order, and starting from the matches."""
    from loom.store.search import plan

    monkeypatch.setattr(plan, "SELECTIVE", -1 if request.param == "walk" else 10**9)
    return request.param


@pytest.fixture(scope="module")
def loom_store(module_store_uri: str) -> Iterator[tuple[Store, str]]:
    store, exp_id = _filled(module_store_uri)
    yield store, exp_id
    store.close()


def _filled(uri: str) -> tuple[Store, str]:
    store = open_store(uri)
    exp_id = store.create_experiment("oracle").experiment_id
    for d in DATA:
        run = store.create_run(exp_id, name=d["name"], start_time=d["start_time"], user=d["user"])
        metrics = [Metric(k, v, ts, step) for k, v, ts, step in d["metrics"]]
        store.log_batch(run.run_id, metrics, d["params"], d["tags"])
        if d["status"] != "RUNNING":
            store.update_run(run.run_id, status=RunStatus(d["status"]), end_time=d["end_time"])
    return store, exp_id


def _loom_names(store: Store, exp_id: str, filter_string: str, order_by, max_results=1000):
    names, token = [], None
    while True:
        page = store.search_runs(
            [exp_id], filter_string, order_by=order_by, max_results=max_results, page_token=token
        )
        names += [r.name for r in page.items]
        token = page.next_page_token
        if not token:
            return names


@pytest.mark.parametrize("filter_string", FILTERS)
def test_filters_match_mlflow(loom_store, mlflow_names, filter_string: str) -> None:
    store, exp_id = loom_store
    expected = mlflow_names(filter_string, None)
    assert _loom_names(store, exp_id, filter_string, None) == expected


@pytest.mark.parametrize("filter_string", list(EXTENSIONS))
def test_extensions_match_mlflow_unions(loom_store, mlflow_names, filter_string: str) -> None:
    store, exp_id = loom_store
    wanted = {name for part in EXTENSIONS[filter_string] for name in mlflow_names(part, None)}
    expected = [name for name in mlflow_names("", None) if name in wanted]
    assert expected, "the case should select something"
    assert _loom_names(store, exp_id, filter_string, None) == expected


@pytest.mark.parametrize("order_by", ORDERS, ids=str)
def test_orders_match_mlflow(loom_store, mlflow_names, order_by) -> None:
    store, exp_id = loom_store
    for filter_string in ("", "metrics.acc > 0.3", "params.batch != '16'"):
        expected = mlflow_names(filter_string, order_by)
        assert _loom_names(store, exp_id, filter_string, order_by) == expected, filter_string


def test_paging_matches_mlflow(loom_store, mlflow_names) -> None:
    store, exp_id = loom_store
    order = ["metrics.acc DESC"]
    expected = mlflow_names("", order, max_results=7)
    assert _loom_names(store, exp_id, "", order, max_results=7) == expected
    assert len(expected) == N_RUNS
