"""The ``loom`` command: builds the Typer app and turns LoomError into message + hint."""

from __future__ import annotations

import os
import sys

import typer

from loom.cli import output

app = typer.Typer(
    name="loom",
    help="Version ML work: data, experiments and models on one lineage graph.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _register() -> None:
    # Each module adds its commands; imports of heavy libraries happen inside commands.
    import importlib

    for name in ("data", "remote", "tracking", "db"):
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

        output.console.print(f"loom {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Version ML work: data, experiments and models on one lineage graph."""


_register()


def run(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    from loom.errors import LoomError

    try:
        code = app(args=argv, standalone_mode=False)
    except LoomError as exc:
        if os.environ.get("LOOM_DEBUG") in {"1", "true", "yes"}:
            import traceback

            traceback.print_exc()
        output.print_error(exc.message, exc.hint)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        output.print_error("Interrupted.", None)
        return 130
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
