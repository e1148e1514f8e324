"""The one error handler of the ``loom`` command, for the typer commands and the fast path.

A LoomError prints ``Error: message`` and ``Hint: …`` (exit 1); an OSError
that reached the CLI is said the same way through ``loom.errors.from_oserror``
(its path and a hint fitting its errno); Ctrl-C prints ``Interrupted.``
(exit 130). Warnings raised with ``loom.errors.warn`` print as ``Warning:``
and ``Hint:`` lines while the command goes on. With the ``debug`` setting
(``LOOM_DEBUG=1``) the traceback is printed too. Anything else is a bug in
Loom: it is said as one ``Internal error:`` line too, its traceback only with
``LOOM_DEBUG``.

    >>> guarded(lambda: 0)
    0
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

from loom.cli.output import print_error, print_warning


class Interrupted(Exception):
    """Ctrl-C, re-raised as an Exception so that click passes it through untouched."""


def guarded(body: Callable[[], int]) -> int:
    """Run ``body``; return its exit code, or the code of what it raised after saying it."""
    from loom.errors import LoomError, LoomWarning, from_oserror

    try:
        _debug(workspace=False)  # a bad LOOM_DEBUG is refused before any work starts
    except LoomError as exc:
        print_error(exc.message, exc.hint)
        return 1
    with warnings.catch_warnings():
        # every LoomWarning reaches _show_warning (even under -W error), which says each once
        warnings.simplefilter("always", LoomWarning)
        warnings.showwarning = functools.partial(_show_warning, warnings.showwarning, set())
        try:
            code = body()
            sys.stdout.flush()  # here, so that a closed pipe is caught below
            return code
        except BrokenPipeError:  # `loom status | head -1`: the reader has all it wanted
            _silence_stdout()
            return 1
        except LoomError as exc:
            return _fail(exc.message, exc.hint)
        except OSError as exc:  # a file the library did not expect to fail: still one line
            err = from_oserror(exc)
            return _fail(err.message, err.hint)
        except (KeyboardInterrupt, Interrupted):
            _fail("Interrupted.", None)
            return 130
        except Exception as exc:  # a bug in Loom: still one line, the traceback on demand
            return _fail(
                f"Internal error: {type(exc).__name__}: {exc}",
                "This is a bug in Loom. Run again with LOOM_DEBUG=1 to see the traceback, "
                "and report it with that output.",
            )


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the flush at exit finds no closed pipe either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is no file (captured in-process): nothing to flush
        pass


def _fail(message: str, hint: str | None) -> int:
    if _debug(workspace=True):
        import traceback

        traceback.print_exc()
    print_error(message, hint)
    return 1


def _debug(*, workspace: bool) -> bool:
    """The ``debug`` setting: LOOM_DEBUG, then (when asked, on errors) the workspace's files."""
    from loom import config
    from loom.errors import LoomError

    layers: Any = None
    if workspace:
        try:
            from loom.data.workspace import Workspace

            ws = Workspace.find_or_none()
            layers = ws.layers() if ws else None
        except (LoomError, OSError):  # the error being reported may be this very file
            layers = None
    return bool(config.get("debug", layers))


def _show_warning(other: Callable[..., None], said: set, message: Any, *args: Any) -> None:
    """A LoomWarning as ``Warning:`` and ``Hint:`` lines, once per command; others as before."""
    from loom.errors import LoomWarning

    if not isinstance(message, LoomWarning):
        other(message, *args)
    elif (message.message, message.hint) not in said:
        said.add((message.message, message.hint))
        print_warning(message.message, message.hint)
