"""The data commands' arguments, declared once: the fast parser and the typer commands use it.

``loom.cli.fast`` parses argv with :func:`parse` (no typer, no rich: ``loom
status`` must start in a few tens of milliseconds) and ``loom.cli.data``
builds the typer commands (``--help``, usage errors) from the same
:data:`COMMANDS`. Both end in the same call: ``loom.cli.data_run.<name>(**kw)``
with every keyword below. tests/cli/test_spec.py checks that they agree.

    >>> parse(["push", "-j", "4", "data"])[1]["jobs"]
    4
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loom.cli.output import JSON_HELP


@dataclass(frozen=True)
class Opt:
    """One option: a flag when ``metavar`` is None, else it takes one value of ``type``."""

    keyword: str  # the body's keyword argument
    flags: tuple[str, ...]
    help: str
    metavar: str | None = None
    type: type = str  # int, float or str for an option that takes a value

    @property
    def takes_value(self) -> bool:
        return self.metavar is not None

    @property
    def default(self) -> Any:
        return None if self.takes_value else False


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Opt, ...]
    paths: str | None = None  # help of the PATHS argument; None: the command takes none
    paths_required: bool = False

    def defaults(self) -> dict[str, Any]:
        out: dict[str, Any] = {"paths": []} if self.paths is not None else {}
        return out | {o.keyword: o.default for o in self.options}


JOBS = Opt("jobs", ("-j", "--jobs"), "Parallel workers (default: from the CPU count).", "N", int)
QUIET = Opt("quiet", ("-q", "--quiet"), "No progress bars or summary.")
JSON = Opt("as_json", ("--json",), JSON_HELP)
REMOTE = Opt("remote", ("-r", "--remote"), "Remote name (default: the default remote).", "NAME")
FORCE = Opt("force", ("-f", "--force"), "Discard changes not in the cache.")
TRACKED = "Tracked paths (default: every pointer in the workspace)."
SYNC = (REMOTE, JOBS, QUIET, JSON)

_COMMANDS = (
    Command(
        "init",
        "Make the current folder (a git repository's top) a Loom workspace.",
        (
            Opt("no_scm", ("--no-scm",), "Use Loom without git."),
            Opt("force", ("--force",), "Re-run in an existing workspace."),
        ),
    ),
    Command(
        "add",
        "Store files or folders in the cache and write their .loom pointer files.",
        (JOBS, QUIET),
        paths="Files or folders to track.",
        paths_required=True,
    ),
    Command(
        "status",
        "Show added, modified and deleted files against each pointer.",
        (JOBS, JSON, QUIET),
        paths=TRACKED,
    ),
    Command(
        "checkout",
        "Make the workspace match the pointers (e.g. after `git checkout`).",
        (FORCE, JOBS, QUIET),
        paths=TRACKED,
    ),
    Command(
        "fetch",
        "Bring the pointers' objects from the remote into the cache (no checkout).",
        SYNC,
        paths=TRACKED,
    ),
    Command(
        "push",
        "Send the cached objects of the pointers that the remote lacks.",
        (
            *SYNC,
            Opt(
                "all_commits",
                ("--all-commits",),
                "Also send what any commit of any branch or tag references.",
            ),
            Opt("all_tags", ("--all-tags",), "Also send what every tag references."),
            Opt(
                "all_branches",
                ("--all-branches",),
                "Also send what every branch's last commit references.",
            ),
        ),
        paths=TRACKED,
    ),
    Command(
        "pull",
        "Fetch the pointers' objects from the remote, then check them out.",
        (*SYNC, FORCE),
        paths=TRACKED,
    ),
    Command(
        "gc",
        "Remove cached objects that no kept pointer (nor any run's artifact) references.",
        (
            Opt("workspace", ("-w", "--workspace"), "Keep what pointers use now."),
            Opt(
                "all_commits",
                ("-a", "--all-commits"),
                "Also keep what any commit of any branch or tag uses.",
            ),
            Opt("dry_run", ("--dry-run",), "Only report what would be removed."),
            Opt(
                "grace",
                ("--grace",),
                "Keep objects younger than this many seconds (default 3600).",
                "SECONDS",
                float,
            ),
            JSON,
        ),
    ),
    Command("fsck", "Verify every cached object; exits 1 if any is corrupt.", (JOBS, QUIET, JSON)),
)
COMMANDS: dict[str, Command] = {c.name: c for c in _COMMANDS}


def parse(argv: list[str]) -> tuple[str, dict[str, Any]] | None:
    """``(command, keywords)`` for a plain data command line; None when typer should parse it.

    (``parse_with`` does the same for another module's commands: ``loom.cli.pipelines``.)
    """
    return parse_with(COMMANDS, argv)


def parse_with(commands: dict[str, Command], argv: list[str]) -> tuple[str, dict[str, Any]] | None:
    """``(command, keywords)`` for a plain command line of ``commands``; None otherwise.

    Anything unusual (``--help``, ``--jobs=4``, bundled ``-qj4``, ``--``, a
    bad value, an unknown option) is left to typer, which prints the usual
    help and usage errors: this parser only has to be right where it answers.
    """
    if not argv or argv[0] not in commands:
        return None
    cmd = commands[argv[0]]
    flags = {flag: o for o in cmd.options for flag in o.flags}
    kw = cmd.defaults()
    rest = iter(argv[1:])
    for arg in rest:
        opt = flags.get(arg)
        if opt is None:
            if arg.startswith("-") or cmd.paths is None:
                return None
            kw["paths"].append(arg)
        elif not opt.takes_value:
            kw[opt.keyword] = True
        else:
            value = _value(opt, next(rest, None))
            if value is None:
                return None
            kw[opt.keyword] = value
    if cmd.paths_required and not kw["paths"]:
        return None
    return cmd.name, kw


def _value(opt: Opt, text: str | None) -> Any:
    if text is None or text.startswith("-"):
        return None
    if opt.type is int:
        return int(text) if text.isascii() and text.isdigit() else None
    if opt.type is float:
        try:
            return float(text)
        except ValueError:
            return None
    return text
