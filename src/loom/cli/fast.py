"""The ``loom`` console script: the everyday data commands without typer, the rest through it.

``loom status`` runs many times a day and should answer in well under 0.3 s
on a clean 20,000-file workspace. Importing typer (which brings pydantic for
argument coercion) and rich costs about 0.25 s of CPU before any work starts,
so the plain forms of ``status``, ``add``, ``checkout``, ``push``, ``fetch`` and
``pull`` are parsed here and run through the same bodies as the typer
commands (``loom.cli.data_run``); anything else (``--help``, ``--jobs=4``, an
unknown option) goes to ``loom.cli.main``, which gives the usual output and errors.

    $ loom status data/raw --json      # handled here
    $ loom status --help               # handled by typer
"""

from __future__ import annotations

import os
import sys

_COLOURS = {"clean": "32", "modified": "31", "deleted": "31", "broken": "31", "invalid": "31"}
# command -> {flag: (keyword, takes a value)}
_JOBS = {"-j": ("jobs", True), "--jobs": ("jobs", True), "-q": ("quiet", False)}
_JOBS["--quiet"] = ("quiet", False)
_SYNC = {
    **_JOBS,
    "-r": ("remote", True),
    "--remote": ("remote", True),
    "--json": ("as_json", False),
}
_FORCE = {"-f": ("force", False), "--force": ("force", False)}
_FLAGS = {
    "status": {**_JOBS, "--json": ("as_json", False)},
    "add": _JOBS,
    "checkout": {**_JOBS, **_FORCE},
    "push": _SYNC,
    "fetch": _SYNC,
    "pull": {**_SYNC, **_FORCE},
}


def main() -> None:
    parsed = _parse(sys.argv[1:])
    if parsed is None:
        from loom.cli.main import main as full

        full()
        return
    sys.exit(_run(*parsed))


def _parse(argv: list[str]) -> tuple[str, list[str], dict] | None:
    """``(command, paths, options)`` for a plain data command; None for anything else."""
    if not argv or argv[0] not in _FLAGS:
        return None
    flags = _FLAGS[argv[0]]
    paths: list[str] = []
    opts: dict = {}
    rest = iter(argv[1:])
    for arg in rest:
        if arg not in flags:
            if arg.startswith("-"):
                return None  # --help, --jobs=N, unknown options: typer's job
            paths.append(arg)
            continue
        key, takes_value = flags[arg]
        if not takes_value:
            opts[key] = True
            continue
        value = next(rest, None)
        if value is None or value.startswith("-") or (key == "jobs" and not value.isdigit()):
            return None  # typer prints the usage error
        opts[key] = int(value) if key == "jobs" else value
    if argv[0] == "add" and not paths:
        return None
    return argv[0], paths, opts


def _run(command: str, paths: list[str], opts: dict) -> int:
    from loom.errors import LoomError

    try:
        code = _dispatch(command, paths, opts)
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
    sys.stdout.flush()
    return code


def _dispatch(command: str, paths: list[str], opts: dict) -> int:
    from loom.cli import data_run

    jobs, quiet, as_json = opts.get("jobs"), opts.get("quiet", False), opts.get("as_json", False)
    if command == "status":
        return _status(paths, jobs, as_json, quiet)
    elif command == "add":
        data_run.run_add(paths, jobs, quiet, _LazyBars)
    elif command == "checkout":
        data_run.run_checkout(paths, opts.get("force", False), jobs, quiet, _LazyBars)
    else:
        kw = {"force": opts.get("force", False)} if command == "pull" else {}
        remote = opts.get("remote")
        data_run.run_sync(command, paths, remote, jobs, quiet, as_json, _LazyBars, **kw)
    return 0


def _status(paths: list[str], jobs: int | None, as_json: bool, quiet: bool) -> int:
    """Prints the rows; 1 when a row is broken or invalid (a pointer contradicts its data)."""
    from loom.data.status import status
    from loom.data.workspace import Workspace

    with _LazyBars(quiet or as_json) as bars:
        rows = status(Workspace.find(), paths, jobs=jobs, progress=bars)
    if as_json:
        import json

        sys.stdout.write(json.dumps([r.as_dict() for r in rows], indent=2, default=str) + "\n")
    else:
        print_status(rows)
    return status_code(rows)


def status_code(rows: list) -> int:
    from loom.data.status import BAD_STATES

    return 1 if any(r.state in BAD_STATES for r in rows) else 0


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
        broken = [(name, why) for name, why in r.broken.items() if name]
        lines.extend(f"    broken: {r.path}/{name} is {why}" for name, why in broken)
        if r.problem:
            lines.append(f"    {r.problem}" + (f"\n    Hint: {r.hint}" if r.hint else ""))
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
