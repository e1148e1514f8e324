"""The stage graph as text, Mermaid or Graphviz dot (``loom dag``).

>>> print(mermaid(dag))                      # doctest: +SKIP
flowchart TD
  s0["prepare"]
  s1["train"]
  s0 --> s1
"""

from __future__ import annotations

import json

from loom.pipelines.dag import Dag


def edges(dag: Dag) -> list[tuple[str, str]]:
    """(upstream, downstream) pairs, in the order of loom.yaml."""
    order = {name: i for i, name in enumerate(dag.stages)}
    return sorted(
        ((up, name) for name in dag.stages for up in dag.upstream[name]),
        key=lambda e: (order[e[1]], order[e[0]]),
    )


def text(dag: Dag) -> str:
    """One line per stage, in run order, with the stages it needs."""
    names = dag.order()
    width = max((len(n) for n in names), default=0)
    lines = []
    for name in names:
        ups = dag.order(dag.upstream[name])
        lines.append(f"{name:{width}}  <- {', '.join(ups)}" if ups else name)
    return "\n".join(lines) + ("\n" if lines else "")


def mermaid(dag: Dag) -> str:
    ids = {name: f"s{i}" for i, name in enumerate(dag.stages)}
    lines = ["flowchart TD"]
    lines += [f"  {ids[n]}[{json.dumps(n)}]" for n in dag.stages]
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in edges(dag)]
    return "\n".join(lines) + "\n"


def dot(dag: Dag) -> str:
    lines = ["digraph loom {", "  rankdir=TB;"]
    lines += [f"  {json.dumps(n)};" for n in dag.stages]
    lines += [f"  {json.dumps(a)} -> {json.dumps(b)};" for a, b in edges(dag)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def as_dict(dag: Dag) -> dict:
    return {"stages": dag.order(), "edges": [list(e) for e in edges(dag)]}
