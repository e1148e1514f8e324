"""The tracking store: one class over SQLite or PostgreSQL.

>>> from loom.store import open_store
>>> store = open_store("sqlite:////tmp/loom-demo/loom.db")
>>> exp = store.create_experiment("demo")
>>> run = store.create_run(exp.experiment_id, name="first")
"""

from __future__ import annotations

from loom.store.aliases import AliasesMixin
from loom.store.datasets import DatasetsMixin
from loom.store.experiments import ExperimentsMixin
from loom.store.history import HistoryMixin
from loom.store.lineage import LineageMixin
from loom.store.logged_model_files import LoggedModelFilesMixin
from loom.store.logged_models import LoggedModelsMixin
from loom.store.model_versions import ModelVersionsMixin
from loom.store.outputs import OutputsMixin
from loom.store.registered_models import RegisteredModelsMixin
from loom.store.runs import RunsMixin
from loom.store.search.experiments import ExperimentSearchMixin
from loom.store.search.mixin import SearchMixin
from loom.store.writes import TagDeletesMixin, WritesMixin


class Store(
    AliasesMixin,
    ModelVersionsMixin,
    RegisteredModelsMixin,
    LoggedModelFilesMixin,
    LoggedModelsMixin,
    OutputsMixin,
    ExperimentSearchMixin,
    SearchMixin,
    HistoryMixin,
    WritesMixin,
    TagDeletesMixin,
    DatasetsMixin,
    RunsMixin,
    ExperimentsMixin,
    LineageMixin,
):
    """Experiments, runs, params, metrics, tags, inputs, outputs and artifacts in SQL;
    the model registry (models, versions, alias events) and logged models.

    Each method is one transaction; entities come back, never ORM rows.
    """


def open_store(uri: str) -> Store:
    """Open the store at ``uri`` and bring its schema up to date.

    ``uri`` is ``sqlite:///ABSOLUTE/PATH/loom.db``, ``postgresql://…`` or
    ``postgresql+psycopg://…``. Migrations run on first use, and many
    processes may open a fresh store at the same moment.
    """
    store = Store(uri)
    store.upgrade()
    return store
