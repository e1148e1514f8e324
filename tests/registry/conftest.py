"""Fixtures for registry tests: the tracking fixtures (a store on SQLite and PostgreSQL),
small real models, and torch — required under CI, skipped with a reason elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_service
from tests.data.conftest import cli, ws  # noqa: F401 (a workspace, the CLI in-process)

# the tracking fixtures, shared: a store on SQLite and on PostgreSQL, isolated user folders
from tests.tracking.conftest import _isolated, client, pg_store_uri, store_uri  # noqa: F401


def need_torch():
    try:
        import torch
    except ImportError:
        need_service("torch is not installed (pip install torch==2.13.0, the CPU build)")
    return torch


@pytest.fixture(scope="session")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y


@pytest.fixture(scope="session")
def sk_model(data):
    from sklearn.linear_model import LogisticRegression

    X, y = data
    return LogisticRegression().fit(X, y)


@pytest.fixture
def run_id(client) -> str:  # noqa: F811 (the imported fixture)
    exp = client.get_or_create_experiment("models")
    return client.create_run(exp.experiment_id).run_id
