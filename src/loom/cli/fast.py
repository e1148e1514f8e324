"""The ``loom`` console script: the data commands without typer, the rest through it.

``loom status`` runs many times a day and should answer in well under 0.3 s
on a clean 20,000-file workspace. Importing typer (which brings pydantic for
argument coercion) and rich costs about 0.25 s of CPU before any work starts,
so the plain forms of the data commands are parsed here, from the same
declaration as the typer commands (``loom.cli.spec``), and run through the
same bodies (``loom.cli.data_run``) and error handler (``loom.cli.guard``).
Anything else (``--help``, ``--jobs=4``, an unknown option) goes to
``loom.cli.main``, which gives the usual output and errors.

    $ loom status data/raw --json      # handled here
    $ loom status --help               # handled by typer
"""

from __future__ import annotations

import sys
from typing import NoReturn


def main() -> None:
    early = sys.argv[1:2] == ["repro"]
    if early:
        # GNU find lists the folders the last repro read while the rest of Loom loads
        from loom.data.listing import Listings

        Listings.start_early()
    try:
        _main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    finally:
        if early:
            Listings.drop_early()  # not taken (`--help`, an error): stopped, never reused
    _exit(code)


def _exit(code: object) -> NoReturn:
    """Exit without the interpreter's teardown, which took ~0.2 s of a `loom repro` that had
    loaded the tracking store (SQLAlchemy's thousands of objects, freed one by one). What
    the teardown is for still happens: other threads are waited for, atexit handlers run
    (the tracking client's flush and close among them) and the streams are flushed."""
    import atexit
    import os
    import threading

    if code is not None and not isinstance(code, int):  # SystemExit("message")
        print(code, file=sys.stderr)
        code = 1
    # what the interpreter does first at exit, in its order: tell idle pool workers to stop
    # and wait for every non-daemon thread (a plain join would wait on those workers
    # forever), then the atexit handlers
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code or 0)


def _main() -> None:
    from loom.cli.spec import parse

    parsed = parse(sys.argv[1:])
    if parsed is not None:
        from loom.cli.data_run import run
    else:  # `loom repro` and `loom dag` (a no-op repro answers in a tenth of a second)
        from loom.cli import pipelines

        parsed, run = pipelines.parse(sys.argv[1:]), pipelines.run
    if parsed is None:
        from loom.cli.main import main as full

        full()
        return
    from loom.cli.guard import guarded

    name, keywords = parsed
    sys.exit(guarded(lambda: run(name, keywords)))
