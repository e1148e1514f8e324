"""Walking lineage through what the tracking store already holds.

Upstream (where something came from): a run's inputs, the runs that produced
those hashes (their outputs, or files they logged), those runs' inputs, and
so on. Downstream (what came of it): a run's outputs (and the logged files
some run read), the runs that read them, the model versions registered from
them, and so on. Each level costs a few indexed queries, whatever the size
of the store; every hash and run is followed once per direction, so cycles
end, and ``depth`` bounds how many runs away from the start a walk goes.

    >>> g = Graph("demo", depth=10)
    >>> w = Walker(client, g)                 # doctest: +SKIP
    >>> w.upstream(runs={run_id})             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

from loom.entities import DataLink, ModelVersion, Run
from loom.lineage.graph import Graph
from loom.tracking.client import Client

DEFAULT_DEPTH = 10
# What Loom records about a run's environment (requirements, git diff: tracking/env.py)
# is logged alike by every run of a process; it is not data that flows between runs.
ENV_ARTIFACTS = "loom/"
GIT_COMMIT_TAGS = ("loom.git.commit", "mlflow.source.git.commit")


def run_id_of(node_id: str) -> str:
    return node_id.removeprefix("run:")


def run_node_id(run_id: str) -> str:
    return f"run:{run_id}"


def data_node_id(oid: str) -> str:
    return f"data:{oid}"


def model_node_id(name: str, version: int) -> str:
    return f"model:{name}/{version}"


def git_commit(run: Run) -> str | None:
    return next((run.tags[t] for t in GIT_COMMIT_TAGS if t in run.tags), None)


class Walker:
    """Adds to ``graph`` what the store says about runs and hashes, level by level."""

    def __init__(self, client: Client, graph: Graph, depth: int = DEFAULT_DEPTH) -> None:
        self.client = client
        self.graph = graph
        self.depth = depth
        self._runs: set[str] = set()  # run nodes in the graph
        self._hashes_up: set[str] = set()  # hashes whose producers were looked up
        self._hashes_down: set[str] = set()  # hashes whose consumers were looked up
        self._runs_up: set[str] = set()  # runs whose inputs were followed
        self._runs_down: set[str] = set()  # runs whose outputs were followed

    # -- directions ------------------------------------------------------------

    def upstream(self, runs: Iterable[str] = (), hashes: Iterable[str] = ()) -> None:
        """Follow inputs to the runs that produced them, up to ``depth`` runs away."""
        todo_runs, todo_hashes, level = set(runs), set(hashes), 1
        while True:
            todo_hashes -= self._hashes_up
            if todo_hashes:
                if level > self.depth:
                    self._mark_unfollowed(todo_hashes, "producers")
                    return
                self._hashes_up |= todo_hashes
                for link in self._links(self.client.links_by_hash(sorted(todo_hashes), PRODUCED)):
                    self._produced(link)
                    todo_runs.add(link.run_id)
            todo_runs -= self._runs_up
            if not todo_runs:
                return
            self.add_runs(todo_runs)
            self._runs_up |= todo_runs
            todo_hashes = set()
            for link in self.client.links_by_run(sorted(todo_runs), ("input",)):
                self._consumed(link)
                todo_hashes.add(link.hash)
            todo_runs, level = set(), level + 1

    def downstream(self, runs: Iterable[str] = (), hashes: Iterable[str] = ()) -> None:
        """Follow outputs to the runs that read them and the versions registered from
        them, up to ``depth`` runs away."""
        todo_runs, todo_hashes, level = set(runs), set(hashes), 1
        while True:
            todo_hashes -= self._hashes_down
            if todo_hashes:
                if level > self.depth:
                    self._mark_unfollowed(todo_hashes, "consumers")
                    return
                self._hashes_down |= todo_hashes
                for link in self.client.links_by_hash(sorted(todo_hashes), ("input",)):
                    self._consumed(link)
                    todo_runs.add(link.run_id)
            todo_runs -= self._runs_down
            if not todo_runs:
                return
            self.add_runs(todo_runs)
            self._runs_down |= todo_runs
            ids = sorted(todo_runs)
            made = self.client.links_by_run(ids, ("output",)) + self.client.consumed_artifacts(ids)
            todo_hashes = set()
            for link in self._links(made):
                self._produced(link)
                todo_hashes.add(link.hash)
            for mv in self.client.model_versions_by_run(ids):
                self.add_model(mv)
            todo_runs, level = set(), level + 1

    # -- nodes -----------------------------------------------------------------

    def add_runs(self, run_ids: Iterable[str]) -> None:
        """Run nodes with what a reader needs: status, commit, params, metrics."""
        new = sorted(set(run_ids) - self._runs)
        if not new:
            return
        self._runs |= set(new)
        found = {r.run_id: r for r in self.client.get_runs(new)}
        for rid in new:
            run = found.get(rid)
            if run is None:  # a version may name a run of another store
                self.graph.node(
                    run_node_id(rid), "run", f"run {rid[:8]}", {"run_id": rid, "missing": True}
                )
            else:
                self.graph.node(run_node_id(rid), "run", f"run {run.name}", run_attrs(run))

    def add_model(self, mv: ModelVersion) -> str:
        node = model_node_id(mv.name, mv.version)
        self.graph.node(node, "model", f"{mv.name} v{mv.version}", model_attrs(mv))
        if mv.run_id:
            self.add_runs([mv.run_id])
            self.graph.edge(run_node_id(mv.run_id), node, "registered", uri=mv.source)
        return node

    def add_data(self, oid: str, path: str, kind: str | None, size: int | None) -> str:
        attrs = {"hash": oid, "kind": kind, "size": size}
        node = self.graph.node(data_node_id(oid), "data", path, attrs)
        paths = node.attrs.setdefault("paths", [])
        if path not in paths:
            paths.append(path)
        if node.attrs.get("size") is None and size is not None:
            node.attrs["size"] = size
        return node.id

    # -- edges -----------------------------------------------------------------

    def _produced(self, link: DataLink) -> None:
        data = self.add_data(link.hash, link.path, link.kind, link.size)
        self.graph.edge(run_node_id(link.run_id), data, "produced", path=link.path, role=link.role)

    def _consumed(self, link: DataLink) -> None:
        data = self.add_data(link.hash, link.path, link.kind, link.size)
        attrs = {"path": link.path, "git_rev": link.git_rev, "modified": link.modified}
        self.graph.edge(data, run_node_id(link.run_id), "consumed", **attrs)

    def _links(self, links: list[DataLink]) -> list[DataLink]:
        # outputs first: a folder's output names it better than one of its files
        kept = [k for k in links if not (k.role == "artifact" and k.path.startswith(ENV_ARTIFACTS))]
        return sorted(kept, key=lambda k: k.role != "output")

    def _mark_unfollowed(self, hashes: set[str], what: str) -> None:
        for oid in hashes:
            node = self.graph.nodes.get(data_node_id(oid))
            if node is not None:
                node.attrs.setdefault("unfollowed", []).append(what)


PRODUCED = ("output", "artifact")


def run_attrs(run: Run) -> dict:
    return {
        "run_id": run.run_id,
        "name": run.name,
        "experiment_id": run.experiment_id,
        "status": str(run.status),
        "lifecycle_stage": str(run.lifecycle_stage),
        "user": run.user,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "git_commit": git_commit(run),
        "git_dirty": run.tags.get("loom.git.dirty") == "true",
        "params": dict(sorted(run.params.items())),
        "metrics": dict(sorted(run.metrics.items())),
    }


def model_attrs(mv: ModelVersion) -> dict:
    return {
        "name": mv.name,
        "version": mv.version,
        "aliases": sorted(mv.aliases),
        "tree": mv.tree,
        "source": mv.source,
        "run_id": mv.run_id,
        "flavor": mv.flavor,
        "semver": mv.semver,
        "creation_time": mv.creation_time,
        "lifecycle_stage": str(mv.lifecycle_stage),
    }
