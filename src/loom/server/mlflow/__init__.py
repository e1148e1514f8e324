"""MLflow's REST API, as MLflow 3.17's client calls it (``/api/2.0/mlflow/…``).

Each module owns one group of calls and lists them in its ``endpoints()``; the
artifact proxy (``/api/2.0/mlflow-artifacts/…``) has its own prefix.
"""

from __future__ import annotations

from loom.server.routing import Endpoint


def endpoints() -> list[Endpoint]:
    from loom.server.mlflow import artifacts, experiments, logged_models, metrics, registry, runs

    return [
        *experiments.endpoints(),
        *runs.endpoints(),
        *metrics.endpoints(),
        *logged_models.endpoints(),
        *registry.endpoints(),
        *artifacts.mlflow_endpoints(),
    ]


def artifact_endpoints() -> list[Endpoint]:
    from loom.server.mlflow import artifacts

    return artifacts.endpoints()
