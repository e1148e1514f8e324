"""The ``loom`` command: builds the Typer app; errors go through ``loom.cli.guard``."""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from loom.cli import output
from loom.cli.guard import Interrupted, guarded


class _Group(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # click turns Ctrl-C into a silent exit 130; the guard says "Interrupted."
            raise Interrupted() from None


app = typer.Typer(
    name="loom",
    cls=_Group,
    help="Version ML work: data, experiments and models on one lineage graph.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _register() -> None:
    # Each module adds its commands; imports of heavy libraries happen inside commands.
    import importlib

    models = ("models", "models_register", "models_query", "models_serve")
    pipelines = ("pipelines", "params_metrics", "import_dvc", "experiments")
    for name in ("data", "remote", "tracking", *models, "lineage", "db", *pipelines, "server"):
        try:
            module = importlib.import_module(f"loom.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"loom.cli.{name}":
                raise
            continue
        module.register(app)


def _print_version(value: bool) -> None:
    if value:
        from loom import __version__

        output.say(f"loom {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Version ML work: data, experiments and models on one lineage graph."""


_register()


def command() -> Any:
    """The click command tree of ``app``, with help that shows flags as flags.

    typer prints a type after every parameter (``--json <bool>``,
    ``PATHS <list[Path]>``); here a flag shows nothing after its name, an
    option that takes a value shows its metavar (``-j, --jobs N``) and an
    argument shows its name only.
    """
    root = typer.main.get_command(app)
    _tidy(root, typer.Context(root, info_name="loom", **root.context_settings))
    return root


def _tidy(cmd: Any, ctx: Any) -> None:
    help_option = cmd.get_help_option(ctx)
    for param in [*cmd.params, *([help_option] if help_option else [])]:
        if isinstance(param, TyperOption) and param.metavar is None:
            param.metavar = "" if param.is_flag else _metavar(param)
        elif isinstance(param, TyperArgument):
            param.metavar = param.metavar or (param.name or "value").upper()
            # the name says it all: no <list[str]> column (typer has no setting for that)
            param.display_type_rich = _no_type  # type: ignore[method-assign]
    for sub in getattr(cmd, "commands", {}).values():
        _tidy(sub, typer.Context(sub, info_name=sub.name, parent=ctx))


def _no_type(ctx: Any) -> None:
    return None


def _metavar(param: Any) -> str:
    if param.type_descriptor.annotation is int:
        return "N"
    longest = max(param.opts, key=len)
    return longest.lstrip("-").replace("-", "_").upper()


def run(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    return guarded(lambda: _click_run(argv))


def _click_run(argv: list[str] | None) -> int:
    try:
        code = command().main(args=argv, standalone_mode=False)
    except Exception as exc:
        # Click's usage errors arrive here in non-standalone mode (typer vendors click,
        # so match by behaviour rather than by class).
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            return exc.exit_code
        if type(exc).__name__ == "Abort":
            output.print_error("Aborted.", None)
            return 1
        raise
    return code if isinstance(code, int) else 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
