"""Data commands as typer commands, built from their declaration in ``loom.cli.spec``.

typer reads a command's parameters from a function signature, so each
command gets a function whose signature is made from its spec; calling it
runs the same body as the fast path (``loom.cli.data_run.run``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import typer

from loom.cli import spec


def typer_command(
    cmd: spec.Command,
    run: Callable[[str, dict[str, Any]], int] | None = None,
    metavar: str = "PATHS",
) -> Callable[..., None]:
    """A function typer turns into ``loom <cmd.name>``: its signature is the spec's, its body
    ``run`` (default: the data commands' ``loom.cli.data_run.run``)."""

    def command(**keywords: Any) -> None:
        body = run or _data_run
        if "paths" in keywords:
            keywords["paths"] = list(keywords["paths"] or [])
        code = body(cmd.name, keywords)
        if code:
            raise typer.Exit(code)

    params = [_parameter(o) for o in cmd.options]
    if cmd.paths is not None:
        default = ... if cmd.paths_required else None
        argument = typer.Argument(default, metavar=metavar, help=cmd.paths, show_default=False)
        params.insert(0, _keyword("paths", argument, list[str] | None))
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__name__ = cmd.name
    command.__doc__ = cmd.help
    return command


def _data_run(name: str, keywords: dict[str, Any]) -> int:
    from loom.cli.data_run import run  # on use: typer's path loads no data command at start

    return run(name, keywords)


def _parameter(o: spec.Opt) -> inspect.Parameter:
    if not o.takes_value:
        return _keyword(o.keyword, typer.Option(False, *o.flags, help=o.help), bool)
    option = typer.Option(None, *o.flags, metavar=o.metavar, help=o.help, show_default=False)
    return _keyword(o.keyword, option, o.type | None)


def _keyword(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def register(app: typer.Typer) -> None:
    for cmd in spec.COMMANDS.values():
        app.command(cmd.name)(typer_command(cmd))
