"""Lineage: where a model version, a run or a data version came from, and what came of it.

A query over what tracking already stores — runs, their inputs and outputs by
content hash, the model versions registered from them — with nothing extra in
the user's code (layer 3: may import everything below the CLI).

    >>> from loom.lineage import trace
    >>> graph = trace(loom.Client(), "models:/rag@production")  # doctest: +SKIP
"""

from __future__ import annotations

from loom.lineage.graph import Edge, Graph, Node
from loom.lineage.trace import trace

__all__ = ["Edge", "Graph", "Node", "trace"]
