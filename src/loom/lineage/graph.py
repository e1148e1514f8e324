"""A lineage graph: model versions, runs and data versions, joined by what flowed between them.

Edges point the way data flows: a data version is ``consumed`` by a run
(``data → run``), a run ``produced`` a data version (``run → data``), a model
version was ``registered`` from a run (``run → model``). Node ids say what they
name: ``model:NAME/3``, ``run:<run id>``, ``data:<content hash>`` (a data
version *is* its hash: the same bytes under two paths are one node).

    >>> g = Graph("demo")
    >>> _ = g.node("run:ab", "run", "run ab", {"status": "FINISHED"})
    >>> _ = g.edge("data:f0", "run:ab", "consumed", path="data/raw")
    >>> [e.kind for e in g.edges_into("run:ab")]
    ['consumed']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

NODE_KINDS = ("model", "run", "data")
EDGE_KINDS = ("consumed", "produced", "registered")


@dataclass
class Node:
    id: str
    kind: str  # one of NODE_KINDS
    label: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # one of EDGE_KINDS
    attrs: dict[str, Any] = field(default_factory=dict)  # path, role, git_rev, modified


@dataclass
class Graph:
    target: str  # what was asked for, as the user wrote it
    roots: list[str] = field(default_factory=list)
    depth: int | None = None
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    _edge_keys: dict[tuple[str, str, str], Edge] = field(default_factory=dict, repr=False)
    _into: dict[str, list[Edge]] = field(default_factory=dict, repr=False)
    _from: dict[str, list[Edge]] = field(default_factory=dict, repr=False)

    def node(self, id: str, kind: str, label: str, attrs: dict[str, Any] | None = None) -> Node:
        """Add a node, or return the one with this id (given ``attrs`` it lacks are added)."""
        found = self.nodes.get(id)
        if found is None:
            found = self.nodes[id] = Node(id, kind, label, dict(attrs or {}))
        else:
            for k, v in (attrs or {}).items():
                found.attrs.setdefault(k, v)
        return found

    def edge(self, source: str, target: str, kind: str, **attrs: Any) -> Edge:
        """Add an edge; the same (source, target, kind) twice is one edge (the first
        attrs win: a folder's output path over one of its files)."""
        key = (source, target, kind)
        found = self._edge_keys.get(key)
        if found is None:
            found = self._edge_keys[key] = Edge(source, target, kind, dict(attrs))
            self.edges.append(found)
            self._into.setdefault(target, []).append(found)
            self._from.setdefault(source, []).append(found)
        return found

    def edges_into(self, id: str) -> list[Edge]:
        return list(self._into.get(id, ()))

    def edges_from(self, id: str) -> list[Edge]:
        return list(self._from.get(id, ()))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data: ``target``, ``roots``, ``depth``, ``nodes``, ``edges``."""
        return {
            "target": self.target,
            "roots": list(self.roots),
            "depth": self.depth,
            "nodes": [asdict(n) for n in self.nodes.values()],
            "edges": [
                {"from": e.source, "to": e.target, "kind": e.kind, **e.attrs} for e in self.edges
            ],
        }
