"""``loom repro`` and ``loom dag``: declared once (``loom.cli.spec``'s classes) for the fast
path and for typer, bodies free of typer and rich at import.

A no-op ``loom repro`` should answer in well under 0.15 s, so the console script
parses it without typer (``loom.cli.fast``), as it does the data commands.

    $ loom repro train -j 4
    $ loom dag --mermaid
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from loom.cli.output import print_error, print_json, say
from loom.cli.spec import JSON, Command, Opt, parse_with

STAGES = "Stages to bring up to date, with what they need (default: every stage)."
_COMMANDS = (
    Command(
        "repro",
        "Run the stages of loom.yaml whose cmd, deps, params or outs changed.",
        (
            Opt("force", ("-f", "--force"), "Run even the stages that are up to date."),
            Opt("dry_run", ("--dry-run",), "Only say what would run, and why."),
            Opt(
                "downstream",
                ("--downstream",),
                "Run the named stages and every stage after them (not those before).",
            ),
            Opt(
                "single_item",
                ("-s", "--single-item"),
                "Run only the named stages, not the stages they need (their deps must exist).",
            ),
            Opt("jobs", ("-j", "--jobs"), "Stages to run at once (default 1).", "N", int),
            Opt(
                "parent_run",
                ("--parent-run",),
                "Record the stages' runs nested under this run (`loom exp run` does).",
                "RUN_ID",
            ),
            JSON,
        ),
        paths=STAGES,
    ),
    Command(
        "dag",
        "Show the stages of loom.yaml and what each needs.",
        (
            Opt("mermaid", ("--mermaid",), "Print a Mermaid flowchart."),
            Opt("dot", ("--dot",), "Print a Graphviz dot graph."),
            JSON,
        ),
    ),
)
COMMANDS: dict[str, Command] = {c.name: c for c in _COMMANDS}


def parse(argv: list[str]) -> tuple[str, dict[str, Any]] | None:
    return parse_with(COMMANDS, argv)


def run(name: str, keywords: dict[str, Any]) -> int:
    return _BODIES[name](**keywords) or 0


def _ws():
    from loom.data.workspace import Workspace

    return Workspace.find()


def repro(
    paths: list[str],
    force: bool,
    dry_run: bool,
    downstream: bool,
    single_item: bool,
    jobs: int | None,
    parent_run: str | None,
    as_json: bool,
) -> int:
    from loom.data.listing import Listings

    ws = _ws()
    # find lists the deps' folders while the pipeline's modules load and loom.yaml is read
    with Listings.early(ws.tmp) as listings:
        if not (paths or force or dry_run or downstream or single_item or parent_run):
            from loom.pipelines import noop

            known = noop.answer(ws.tmp, ws.root, listings)
            if known is not None:  # all the last no-op read is as it was: the same answer
                print_json(known) if as_json else say("Every stage is up to date.")
                return 0
        return _repro(
            ws, listings, paths, force, dry_run, downstream, single_item, jobs, parent_run, as_json
        )


def _repro(
    ws: Any,
    listings: Any,
    paths: list[str],
    force: bool,
    dry_run: bool,
    downstream: bool,
    single_item: bool,
    jobs: int | None,
    parent_run: str | None,
    as_json: bool,
) -> int:
    from loom.errors import LoomError
    from loom.pipelines.executor import Console
    from loom.pipelines.repro import StageFailed, Terminated
    from loom.pipelines.repro import repro as run_repro

    jobs = jobs or 1
    # with --json, stdout holds the JSON alone: the stages' output goes to stderr
    console = Console(prefix=jobs > 1, out=sys.stderr if as_json else None)
    try:
        result = run_repro(
            ws,
            paths,
            force=force,
            dry_run=dry_run,
            downstream=downstream,
            single_item=single_item,
            jobs=jobs,
            console=console,
            parent_run=parent_run,
            listings=listings,
        )
    except StageFailed as exc:
        if as_json and exc.fields.get("result") is not None:
            print_json(exc.fields["result"].as_dict())
        raise
    except Terminated:
        print_error("Stopped by SIGTERM; the running stages were killed.", None)
        raise
    except LoomError:
        raise
    if as_json:
        print_json(result.as_dict())
    elif dry_run:
        width = max((len(s.name) for s in result.stages), default=0)
        for s in result.stages:
            say(f"{s.name:{width}}  {s.action}: {s.reason}")
    elif all(s.action == "skipped" for s in result.stages):
        say("Every stage is up to date.")
    return 0


def dag(mermaid: bool, dot: bool, as_json: bool) -> int:
    from loom.errors import UsageError
    from loom.pipelines import render
    from loom.pipelines.dag import build
    from loom.pipelines.spec import load

    if sum((mermaid, dot, as_json)) > 1:
        raise UsageError("Choose one of --mermaid, --dot and --json.", hint="loom dag --mermaid")
    graph = build(load(_ws().root))
    if as_json:
        print_json(render.as_dict(graph))
        return 0
    draw = render.mermaid if mermaid else render.dot if dot else render.text
    sys.stdout.write(draw(graph))
    return 0


_BODIES: dict[str, Callable[..., int | None]] = {"repro": repro, "dag": dag}


def register(app: Any) -> None:
    from loom.cli.data import typer_command

    for cmd in COMMANDS.values():
        app.command(cmd.name)(typer_command(cmd, run, metavar="STAGES"))
