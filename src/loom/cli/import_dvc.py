"""``loom import-dvc [PATH]``: convert a DVC project in place."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from loom.cli import output


def import_dvc(
    path: Path | None = typer.Argument(None, help="The DVC project's folder (default: here)."),
    force: bool = typer.Option(
        False, "-f", "--force", help="Replace an existing loom.yaml, loom.lock, pointer files."
    ),
    as_json: bool = typer.Option(False, "--json", help=output.JSON_HELP),
) -> None:
    """Convert a DVC project: dvc.yaml -> loom.yaml, dvc.lock -> loom.lock, .dvc files ->
    pointer files (data into the Loom cache, from the workspace or DVC's cache), DVC
    remotes -> Loom remotes. DVC's files are left in place; the report says what needs
    your attention."""
    from loom.pipelines.dvcimport import import_dvc as run

    report = run(path, force=force)
    if as_json:
        output.print_json(report.as_dict())
        return
    say = output.say
    say(f"Converted the DVC project in {report.root}:")
    for n in report.converted:
        say(f"  {n.kind:8} {n.name}: {n.message}")
    if report.attention:
        say("Needs attention:")
    for n in report.attention:
        say(f"  {n.kind:8} {n.name}: {n.message}")
        if n.hint:
            say(f"  {'':8} Hint: {n.hint}")
    committed = [f for f in sorted(report.written) if not f.endswith("config.local.toml")]
    if committed:
        files = " ".join(shlex.quote(f) for f in committed)
        say(f"Commit what was written: git add {files}")


def register(app: typer.Typer) -> None:
    app.command("import-dvc")(import_dvc)
