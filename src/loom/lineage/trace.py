"""``trace``: the lineage graph of a model version, a run or a data version.

The target is what a user types after ``loom lineage``:

- ``models:/NAME@alias``, ``models:/NAME/3``, ``models:/NAME/latest`` — where the
  version came from: its run, that run's inputs, the runs that produced them …
- a run id (or a unique prefix of 6+ characters), or ``runs:/ID`` — both ways:
  what it read and where that came from, what it produced and what came of it;
- a data path (tracked or not; at a git revision with ``rev``) or a content hash
  (64 hex digits) — both ways: the runs that produced that version, and those
  that read it.

    >>> g = trace(client, "models:/rag@production")        # doctest: +SKIP
    >>> g = trace(client, "data/raw", rev="v1.0", depth=3)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re

from loom.errors import NotFoundError, UsageError
from loom.lineage.graph import Graph
from loom.lineage.walk import DEFAULT_DEPTH, Walker, run_node_id
from loom.tracking.client import Client

_HASH = re.compile(r"[0-9a-f]{64}")
_RUN_ID = re.compile(r"[0-9a-f]{6,32}")


def trace(
    client: Client, target: str, *, rev: str | None = None, depth: int = DEFAULT_DEPTH
) -> Graph:
    """The lineage graph around ``target`` (see the module doc for the forms)."""
    if depth < 1:
        raise UsageError(f"--depth must be at least 1, not {depth}.", hint="e.g. --depth 3")
    graph = Graph(target, depth=depth)
    walker = Walker(client, graph, depth)
    if target.startswith("models:/"):
        _no_rev(rev, target)
        _from_model(client, walker, target)
    elif target.startswith("runs:/") or _is_run(client, target):
        _no_rev(rev, target)
        run_id = client.resolve_run_id(target.removeprefix("runs:/").split("/", 1)[0])
        graph.roots.append(run_node_id(run_id))
        walker.add_runs([run_id])
        walker.upstream(runs={run_id})
        walker.downstream(runs={run_id})
    else:
        _from_data(walker, target, rev)
    return graph


def _from_model(client: Client, walker: Walker, uri: str) -> None:
    from loom.lineage.models import version_for_uri

    mv = version_for_uri(client, uri)
    walker.graph.roots.append(walker.add_model(mv))
    if mv.run_id:
        walker.upstream(runs={mv.run_id})


def _from_data(walker: Walker, target: str, rev: str | None) -> None:
    if _HASH.fullmatch(target) and rev is None and not os.path.lexists(target):
        oid, path, kind, size = target, target[:12], None, None
    else:
        import loom.data

        try:
            v = loom.data.info(target, rev=rev)
        except NotFoundError as exc:
            raise _unknown(target, rev, exc) from None
        oid, path, size = v.hash, v.path, v.size
        kind = "directory" if v.kind in ("dir", "directory") else v.kind
    node = walker.add_data(oid, path, kind, size)
    if rev is not None:
        walker.graph.nodes[node].attrs["rev"] = rev
    walker.graph.roots.append(node)
    walker.upstream(hashes={oid})
    walker.downstream(hashes={oid})


def _is_run(client: Client, target: str) -> bool:
    """A run id or prefix, unless a file of that name is here (then it is data)."""
    if not _RUN_ID.fullmatch(target) or os.path.lexists(target):
        return False
    try:
        client.resolve_run_id(target)
    except NotFoundError:
        return False
    return True


def _no_rev(rev: str | None, target: str) -> None:
    if rev is not None:
        raise UsageError(
            f"--rev applies to data paths, not to {target!r}.",
            hint="Drop --rev, or give a data path: loom lineage data/raw --rev v1.0",
        )


def _unknown(target: str, rev: str | None, exc: NotFoundError) -> NotFoundError:
    if rev is not None:
        return exc  # the path at that revision: loom.data said what is wrong
    return NotFoundError(
        f"{target!r} is not a model URI, a run id, nor a data path here.",
        hint="Give models:/NAME@ALIAS or models:/NAME/VERSION, a run id (6+ characters "
        "are enough), or a data path (with --rev REV for a past version).",
        target=target,
    )
