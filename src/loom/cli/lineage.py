"""``loom lineage TARGET``: where a model version, run or data version came from, and what
came of it — a text tree, ``--json`` or a ``--mermaid`` flowchart."""

from __future__ import annotations

import typer

from loom.cli import output

DEPTH_HELP = "Follow at most N runs away in each direction."


def lineage(
    target: str = typer.Argument(
        ...,
        help="models:/NAME@ALIAS, models:/NAME/VERSION, a run id, or a data path or hash.",
    ),
    rev: str | None = typer.Option(None, "--rev", help="The data path's version at this git rev."),
    depth: int = typer.Option(10, "--depth", help=DEPTH_HELP),
    as_json: bool = typer.Option(False, "--json", help=output.JSON_HELP),
    as_mermaid: bool = typer.Option(False, "--mermaid", help="Print a Mermaid flowchart."),
    uri: str | None = typer.Option(
        None, "--tracking-uri", envvar="LOOM_TRACKING_URI", help="Store URI (default: resolved)."
    ),
) -> None:
    """Lineage of TARGET: its run, commit, params, metrics and data, recursively."""
    from loom.errors import UsageError
    from loom.lineage import render, trace
    from loom.tracking.client import Client

    if as_json and as_mermaid:
        raise UsageError("--json and --mermaid are two formats: choose one.")
    with Client(uri) as c:
        graph = trace(c, target, rev=rev, depth=depth)
    if as_json:
        return output.print_json(graph.to_dict())
    output.say(render.mermaid(graph) if as_mermaid else render.text(graph))


def register(app: typer.Typer) -> None:
    app.command("lineage")(lineage)
