"""Which stages ``loom repro`` would run, and why: the pipeline part of ``loom status``.

    >>> [d.as_dict() for d in stages(ws)]        # doctest: +SKIP
    [{'stage': 'train', 'action': 'run', 'reason': 'param train.lr changed (0.01 -> 0.02)'}]

Costs what a no-op ``loom repro`` costs: a stat per file of the deps and outs.
"""

from __future__ import annotations

from loom.data.workspace import Workspace
from loom.pipelines import lock
from loom.pipelines.dag import build
from loom.pipelines.params import ParamFiles
from loom.pipelines.plan import Decision, Planner
from loom.pipelines.repro import plan_all
from loom.pipelines.runcache import RunCache
from loom.pipelines.spec import disk_reader, load
from loom.pipelines.versions import Versions


def stages(ws: Workspace) -> list[Decision]:
    """A decision per stage of ``loom.yaml``, as a plain ``loom repro`` would take them."""
    pipeline = load(ws.root)
    dag = build(pipeline)
    names = dag.order()
    with Versions(ws) as versions:
        planner = Planner(
            dag,
            lock.read(ws.root),
            versions,
            ParamFiles(disk_reader(ws.root)),
            RunCache(ws, fetch=False),
        )
        planner.check(names)
        return plan_all(planner, dag, names)
