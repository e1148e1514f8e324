"""The bodies of the everyday data commands, free of typer and rich at import.

``loom.cli.data`` (typer) and the console script's fast path
(``loom.cli.fast``) both call these, so the output is the same either way.
``bars(quiet)`` is the caller's progress context manager.

    >>> run_checkout([], force=False, jobs=None, quiet=True, bars=no_bars)  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

Bars = Callable[[bool], AbstractContextManager[Any]]


def no_bars(quiet: bool) -> AbstractContextManager[Any]:
    from loom.data.progress import NO_PROGRESS

    return nullcontext(NO_PROGRESS)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _ws():
    from loom.data.workspace import Workspace

    return Workspace.find()


def run_add(paths: list, jobs: int | None, quiet: bool, bars: Bars) -> None:
    from loom.data.add import add as add_paths

    ws = _ws()
    with bars(quiet) as progress:
        pointers = add_paths(ws, paths, jobs=jobs, progress=progress)
    if quiet:
        return
    for p in pointers:
        what = f"{p.files} files, " if p.kind == "dir" else ""
        say(f"Added {p.rel} ({what}{p.size} bytes) -> {p.pointer_rel}")
    if ws.has_git:
        say(f"To track the changes with git, run:\n  git add {' '.join(_git_paths(pointers))}")


def _git_paths(pointers) -> list[str]:
    import shlex

    out: list[str] = []
    for p in pointers:
        folder = p.rel.rsplit("/", 1)[0] + "/" if "/" in p.rel else ""
        out += [shlex.quote(p.pointer_rel), shlex.quote(folder + ".gitignore")]
    return list(dict.fromkeys(out))


def run_checkout(paths: list, force: bool, jobs: int | None, quiet: bool, bars: Bars) -> None:
    from loom.data.checkout import checkout as do_checkout

    with bars(quiet) as progress:
        r = do_checkout(_ws(), paths, force=force, jobs=jobs, progress=progress)
    if not quiet:
        say(f"{r.written} file(s) written, {r.removed} removed, {r.unchanged} path(s) unchanged.")


def _print_json(r) -> None:
    import json

    say(json.dumps(r.as_dict(), indent=2, default=str, allow_nan=True))


def run_sync(verb: str, paths: list, remote, jobs, quiet, as_json, bars: Bars, **kw) -> None:
    """push, fetch or pull."""
    from loom.data import sync
    from loom.errors import LoomError

    with bars(quiet or as_json) as progress:
        try:
            r = getattr(sync, verb)(_ws(), paths, remote=remote, jobs=jobs, progress=progress, **kw)
        except LoomError as exc:  # a partial fetch or pull: what was done, then the error
            done = exc.fields.get("result")
            if as_json and isinstance(done, sync.SyncResult):
                _print_json(done)
            raise
    if as_json:
        _print_json(r)
    elif not quiet:
        say(
            f"{verb.capitalize()}: {r.transferred} object(s) transferred ({r.bytes} bytes), "
            f"{r.skipped} already there. Remote: {r.remote}"
        )
        if r.checkout is not None:
            say(f"Checkout: {r.checkout.written} written, {r.checkout.removed} removed.")
