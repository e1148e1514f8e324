"""The stage graph: a stage depends on the stages whose outs its deps read.

A dep reads an out when it is that path, inside it (``data/processed/a.csv``
of out ``data/processed``) or holds it (dep ``data`` of out ``data/processed``).
Built once per command; refused before anything runs when two stages write one
path, an out is inside another out, a stage reads what it writes, or the
stages form a cycle (the error names them in order).

    >>> dag = build(pipeline)                           # doctest: +SKIP
    >>> dag.select(["train"])                           # doctest: +SKIP
    ['prepare', 'train']
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from loom.pipelines.errors import PipelineError
from loom.pipelines.spec import Out, Pipeline, Stage


@dataclass
class Dag:
    pipeline: Pipeline
    producer: dict[str, tuple[str, Out]] = field(default_factory=dict)  # out path -> stage, out
    upstream: dict[str, set[str]] = field(default_factory=dict)
    downstream: dict[str, set[str]] = field(default_factory=dict)
    # out paths under each folder that holds one: "a" -> ["a/b/c"] (a dep "a" reads them)
    _below: dict[str, list[str]] = field(default_factory=dict)

    @property
    def stages(self) -> dict[str, Stage]:
        return self.pipeline.stages

    def producers_of(self, path: str) -> list[tuple[str, Out]]:
        """The (stage, out) pairs a dep ``path`` reads: an out at or above it, or below it."""
        found = []
        parts = path.split("/")
        for i in range(len(parts), 0, -1):
            hit = self.producer.get("/".join(parts[:i]))
            if hit is not None:
                found.append(hit)
                break  # outs never nest, so there is at most one above
        found += [self.producer[p] for p in self._below.get(path, ())]
        return found

    def order(self, names: Iterable[str] | None = None) -> list[str]:
        """``names`` (default: all) in an order where every stage follows its upstream,
        ties kept in the order of loom.yaml."""
        wanted = set(self.stages if names is None else names)
        index = {name: i for i, name in enumerate(self.stages)}
        waiting = {n: len(self.upstream[n] & wanted) for n in wanted}
        ready = [(index[n], n) for n, k in waiting.items() if k == 0]
        heapq.heapify(ready)
        out = []
        while ready:
            _, name = heapq.heappop(ready)
            out.append(name)
            for after in self.downstream[name] & wanted:
                waiting[after] -= 1
                if waiting[after] == 0:
                    heapq.heappush(ready, (index[after], after))
        return out

    def select(
        self, targets: Sequence[str] = (), *, downstream: bool = False, single_item: bool = False
    ) -> list[str]:
        """The stages ``loom repro`` works on, in order: the targets and everything they need
        (or, with ``downstream``, everything that follows them; with ``single_item``, the
        targets alone); no targets: all."""
        if not targets:
            return self.order()
        for name in targets:
            self.pipeline.stage(name)  # NotFoundError listing the stages
        if single_item:
            return self.order(set(targets))
        edges = self.downstream if downstream else self.upstream
        seen: set[str] = set()
        todo = list(targets)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(edges[name])
        return self.order(seen)

    def ancestors(self, name: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self.upstream[name])
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(self.upstream[n])
        return seen


def build(pipeline: Pipeline) -> Dag:
    """The graph of ``pipeline``; PipelineError (file and line) for what can't be run."""
    dag = Dag(pipeline)
    for stage in pipeline.stages.values():
        dag.upstream[stage.name] = set()
        dag.downstream[stage.name] = set()
        for out in stage.outs:
            before = dag.producer.get(out.path)
            if before is not None:
                other = f"stage {before[0]!r} ({before[1].where})"
                raise PipelineError(
                    out.where,
                    f"stage {stage.name!r}: {out.path} is already an out of {other}.",
                    hint="Each path is written by one stage; rename one of the outs.",
                    path=out.path,
                )
            dag.producer[out.path] = (stage.name, out)
    _check_nesting(dag)
    for stage in pipeline.stages.values():
        for dep in stage.deps:
            for name, out in dag.producers_of(dep.path):
                if name == stage.name:
                    raise PipelineError(
                        dep.where,
                        f"stage {stage.name!r} reads {dep.path}, which it writes itself "
                        f"({out.path}).",
                        hint="A stage can't depend on its own out; use `persist: true` on an "
                        "out it updates in place, and no dep.",
                        path=dep.path,
                    )
                dag.upstream[stage.name].add(name)
                dag.downstream[name].add(stage.name)
    _check_cycles(dag)
    return dag


def _check_nesting(dag: Dag) -> None:
    for path, (name, out) in dag.producer.items():
        parts = path.split("/")
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            dag._below.setdefault(folder, []).append(path)
            outer = dag.producer.get(folder)
            if outer is not None:
                raise PipelineError(
                    out.where,
                    f"stage {name!r}: the out {path} is inside {folder}, an out of stage "
                    f"{outer[0]!r} ({outer[1].where}).",
                    hint="Outs can't overlap: name the inner path only, or the folder only.",
                    path=path,
                )


def _check_cycles(dag: Dag) -> None:
    ordered = dag.order()
    if len(ordered) == len(dag.stages):
        return
    left = set(dag.stages) - set(ordered)
    cycle = _find_cycle(dag, left)
    first = dag.stages[cycle[0]]
    raise PipelineError(
        first.where,
        "the stages depend on each other in a cycle: " + " -> ".join([*cycle, cycle[0]]) + ".",
        hint="Each stage's deps must come from stages before it; break the cycle by "
        "removing one of those deps.",
        stages=cycle,
    )


def _find_cycle(dag: Dag, left: set[str]) -> list[str]:
    """One cycle among ``left`` (stages that never became ready), in dependency order."""
    index = {name: i for i, name in enumerate(dag.stages)}
    start = min(left, key=index.__getitem__)
    path: list[str] = []
    seen: dict[str, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        # follow an upstream edge that stays among the stuck stages
        node = min(dag.upstream[node] & left, key=index.__getitem__)
    cycle = path[seen[node] :]
    cycle.reverse()  # upstream edges walked backwards: say it as data flows
    first = cycle.index(min(cycle, key=index.__getitem__))
    return cycle[first:] + cycle[:first]  # from the stage written first in loom.yaml
