"""A lineage graph as text: a tree for a terminal, or a Mermaid flowchart for docs.

The tree starts at the target and reads both ways: "came from" lists what it
was made of (recursively), "led to" what was made from it. A node met twice
is written once and then named ``(see above)``, so cycles print finitely.

    >>> print(mermaid(graph))  # doctest: +SKIP
    flowchart LR
        n0{{"rag v3<br/>production"}}
"""

from __future__ import annotations

from collections.abc import Iterator

from loom.lineage.graph import Edge, Graph, Node

# how an edge reads from each end: (walking upstream, walking downstream)
_VERBS = {
    "consumed": ("read", "read by"),
    "produced": ("produced by", "produced"),
    "registered": ("registered from", "registered as"),
}


def text(graph: Graph) -> str:
    lines: list[str] = []
    for root in graph.roots:
        node = graph.nodes[root]
        lines.append(describe(node))
        lines += [f"  {d}" for d in details(node)]
        up = list(_tree(graph, root, upstream=True, seen={root}))
        down = list(_tree(graph, root, upstream=False, seen={root}))
        if up:
            lines += ["", "came from:", *up]
        elif node.kind == "data" and down:
            lines += ["", "came from: no recorded run produced this version."]
        if down:
            lines += ["", "led to:", *down]
        if not up and not down:
            lines += ["", "Nothing recorded links to it: no run read or produced it."]
    return "\n".join(lines)


def _tree(
    graph: Graph, node_id: str, *, upstream: bool, seen: set[str], prefix: str = ""
) -> Iterator[str]:
    edges = graph.edges_into(node_id) if upstream else graph.edges_from(node_id)
    for i, edge in enumerate(edges):
        last = i == len(edges) - 1
        other = graph.nodes[edge.source if upstream else edge.target]
        verb = _VERBS[edge.kind][0 if upstream else 1]
        again = other.id in seen
        yield f"{prefix}{'└── ' if last else '├── '}{verb} {describe(other, edge)}" + (
            " (see above)" if again else ""
        )
        if again:
            continue
        seen.add(other.id)
        inner = prefix + ("    " if last else "│   ")
        for d in details(other):
            yield f"{inner}  {d}"
        yield from _tree(graph, other.id, upstream=upstream, seen=seen, prefix=inner)


def describe(node: Node, edge: Edge | None = None) -> str:
    """One line for a node (and the edge that led to it)."""
    a = node.attrs
    if node.kind == "model":
        aliases = f" [{', '.join(a['aliases'])}]" if a.get("aliases") else ""
        return f"model {a['name']} v{a['version']}{aliases} · tree {a['tree'][:12]}"
    if node.kind == "run":
        if a.get("missing"):
            return f"run {a['run_id']} (not in this store)"
        bits = [f"run {a['name']} {a['run_id'][:8]}", a["status"]]
        if a.get("git_commit"):
            bits.append(f"commit {a['git_commit'][:10]}" + (" (dirty)" if a["git_dirty"] else ""))
        if a.get("lifecycle_stage") == "deleted":
            bits.append("deleted")
        return " · ".join(bits)
    path = (edge.attrs.get("path") if edge else None) or node.label
    bits = [f"{path}", a.get("kind") or "data", a["hash"][:12]]
    if a.get("size") is not None:
        bits.append(_size(a["size"]))
    if edge is not None and edge.attrs.get("git_rev"):
        bits.append(f"at git {edge.attrs['git_rev'][:10]}")
    if edge is not None and edge.attrs.get("modified"):
        bits.append("modified (not committed)")
    if a.get("rev"):
        bits.append(f"at {a['rev']}")
    return " · ".join(bits)


def details(node: Node) -> list[str]:
    """The lines under a node: a run's params and metrics, a data version's unfollowed side."""
    a = node.attrs
    out = []
    if node.kind == "run" and not a.get("missing"):
        if a["params"]:
            out.append("params: " + ", ".join(f"{k}={v}" for k, v in a["params"].items()))
        if a["metrics"]:
            out.append("metrics: " + ", ".join(f"{k}={v:.6g}" for k, v in a["metrics"].items()))
    if node.kind == "data" and a.get("unfollowed"):
        what = " and ".join(a["unfollowed"])
        out.append(f"(its {what} are further than --depth allows: raise it to see them)")
    return out


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


# -- Mermaid ------------------------------------------------------------------------

# node shapes: a model version a hexagon, a run a rounded box, a data version a cylinder
_SHAPES: dict[str, tuple[str, str]] = {
    "model": ("{{", "}}"),
    "run": ("(", ")"),
    "data": ("[(", ")]"),
}
_CLASSES = {
    "model": "fill:#fde68a,stroke:#b45309",
    "run": "fill:#bfdbfe,stroke:#1d4ed8",
    "data": "fill:#bbf7d0,stroke:#15803d",
}


def mermaid(graph: Graph) -> str:
    """A ``flowchart LR`` that GitHub, GitLab and mermaid.live render as is."""
    ids = {node_id: f"n{i}" for i, node_id in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for node_id, node in graph.nodes.items():
        left, right = _SHAPES[node.kind]
        lines.append(f'    {ids[node_id]}{left}"{_mermaid_label(node)}"{right}')
    for e in graph.edges:
        verb = _VERBS[e.kind][1]
        lines.append(f"    {ids[e.source]} -->|{_escape(verb)}| {ids[e.target]}")
    for kind, style in _CLASSES.items():
        members = [ids[n.id] for n in graph.nodes.values() if n.kind == kind]
        if members:
            lines.append(f"    classDef {kind} {style}")
            lines.append(f"    class {','.join(members)} {kind}")
    for root in graph.roots:
        lines.append(f"    style {ids[root]} stroke-width:3px")
    return "\n".join(lines)


def _mermaid_label(node: Node) -> str:
    a = node.attrs
    if node.kind == "model":
        rows = [f"{a['name']} v{a['version']}", ", ".join(a.get("aliases") or [])]
    elif node.kind == "run":
        commit = a.get("git_commit")
        rows = [node.label, a["run_id"][:8], f"commit {commit[:8]}" if commit else ""]
    else:
        rows = [node.label, a["hash"][:12]]
    return "<br/>".join(_escape(r) for r in rows if r)


_ENTITIES: dict[str, str] = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "|": "#124;",
}


def _escape(s: str) -> str:
    """Text safe inside a quoted Mermaid label or an edge label (entity codes)."""
    # '#' first: the other replacements introduce '#'
    out = s.replace("#", _ENTITIES["#"])
    for ch in ('"', "<", ">", "&", "|"):
        out = out.replace(ch, _ENTITIES[ch])
    return " ".join(out.split())  # no newlines: a label is one line of the chart
