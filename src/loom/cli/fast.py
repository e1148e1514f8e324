"""The ``loom`` console script: ``loom status`` without typer, everything else through it.

``loom status`` runs many times a day and should answer in well under 0.3 s
on a clean 20,000-file workspace. Importing typer (which brings pydantic for
argument coercion) and rich costs about 0.25 s before any work starts, so the
plain forms of ``status`` are parsed here and the rest goes to
``loom.cli.main``, which gives the same output and errors.

    $ loom status data/raw --json      # handled here
    $ loom status --help               # handled by typer
"""

from __future__ import annotations

import os
import sys

_COLOURS = {"clean": "32", "modified": "31", "deleted": "31"}


def main() -> None:
    args = _status_args(sys.argv[1:])
    if args is None:
        from loom.cli.main import main as full

        full()
        return
    sys.exit(_run_status(*args))


def _status_args(argv: list[str]) -> tuple[list[str], int | None, bool, bool] | None:
    """``(paths, jobs, as_json, quiet)`` for a plain ``loom status``; None for anything else."""
    if not argv or argv[0] != "status":
        return None
    paths: list[str] = []
    jobs, as_json, quiet = None, False, False
    rest = iter(argv[1:])
    for arg in rest:
        if arg == "--json":
            as_json = True
        elif arg in ("-q", "--quiet"):
            quiet = True
        elif arg in ("-j", "--jobs"):
            value = next(rest, "")
            if not value.isdigit():
                return None  # typer prints the usage error
            jobs = int(value)
        elif arg.startswith("-"):
            return None  # --help, --jobs=N, unknown options: typer's job
        else:
            paths.append(arg)
    return paths, jobs, as_json, quiet


def _run_status(paths: list[str], jobs: int | None, as_json: bool, quiet: bool) -> int:
    from loom.errors import LoomError

    try:
        from loom.data.status import status
        from loom.data.workspace import Workspace

        with _LazyBars(quiet or as_json) as bars:
            rows = status(Workspace.find(), paths, jobs=jobs, progress=bars)
    except LoomError as exc:
        from loom.cli.output import print_error

        if os.environ.get("LOOM_DEBUG") in {"1", "true", "yes"}:
            import traceback

            traceback.print_exc()
        print_error(exc.message, exc.hint)  # as loom.cli.main does
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("Error: Interrupted.\n")
        return 130
    if as_json:
        import json

        sys.stdout.write(json.dumps([r.as_dict() for r in rows], indent=2, default=str) + "\n")
    else:
        print_status(rows)
    sys.stdout.flush()
    return 0


def print_status(rows: list) -> None:
    """Write ``loom status`` rows to stdout, coloured on a terminal (NO_COLOR is honoured)."""
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    paint = (lambda code, s: f"\x1b[{code}m{s}\x1b[0m") if colour else (lambda code, s: s)
    lines = [] if rows else ["Nothing is tracked yet; `loom add PATH` starts."]
    for r in rows:
        cache = "" if r.in_cache else " " + paint("33", "(not in cache)")
        lines.append(f"{paint(_COLOURS.get(r.state, '0'), f'{r.state:9}')} {r.path}{cache}")
        for label, names in (("added", r.added), ("modified", r.modified), ("deleted", r.deleted)):
            lines.extend(f"    {label}: {r.path}/{name}" for name in names)
    sys.stdout.write("".join(line + "\n" for line in lines))


class _LazyBars:
    """Progress bars on a terminal, with rich imported only when some work needs a bar."""

    def __init__(self, quiet: bool) -> None:
        self.on = not quiet and sys.stderr.isatty()
        self.bars = None

    def __enter__(self):
        if not self.on:
            from loom.data.progress import NO_PROGRESS

            return NO_PROGRESS
        return self

    def task(self, what: str, total: int | None):
        if self.bars is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            columns = (
                "{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            self.bars = Progress(*columns, console=Console(stderr=True), transient=True)
            self.bars.start()
        task_id = self.bars.add_task(what, total=total)
        return lambda n: self.bars.advance(task_id, n)

    def __exit__(self, *exc) -> None:
        if self.bars is not None:
            self.bars.stop()
