"""Data commands: init, add, status, checkout, fetch, push, pull, gc, fsck (thin over loom.data)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer
from rich.markup import escape

from loom.cli import output

JOBS = typer.Option(None, "-j", "--jobs", help="Parallel workers (default: from the CPU count).")
QUIET = typer.Option(False, "-q", "--quiet", help="No progress bars or summary.")
JSON = typer.Option(False, "--json", help="Print the result as JSON.")
REMOTE = typer.Option(None, "-r", "--remote", help="Remote name (default: the default remote).")
PATHS = typer.Argument(None, help="Tracked paths (default: every pointer in the workspace).")


class _Bars:
    """loom.data's Progress protocol drawn as rich progress bars on stderr."""

    def __init__(self, progress) -> None:
        self.progress = progress

    def task(self, what: str, total: int | None):
        task_id = self.progress.add_task(what, total=total)
        return lambda n: self.progress.advance(task_id, n)


@contextmanager
def progress_bars(quiet: bool):
    from loom.data.progress import NO_PROGRESS

    if quiet or not output.err_console.is_terminal:
        yield NO_PROGRESS
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=output.err_console, transient=True) as bars:
        yield _Bars(bars)


def _ws():
    from loom.data.workspace import Workspace

    return Workspace.find()


def init(
    no_scm: bool = typer.Option(False, "--no-scm", help="Use Loom without git."),
    force: bool = typer.Option(False, "--force", help="Re-run in an existing workspace."),
) -> None:
    """Make the current folder (a git repository's top) a Loom workspace."""
    from loom.data.workspace import init as init_ws

    ws = init_ws(Path.cwd(), no_scm=no_scm, force=force)
    output.console.print(f"Initialized Loom workspace in {ws.loom_dir}")
    if ws.has_git:
        output.console.print("Next: git add .loom/config.toml .loom/.gitignore && git commit")


def add(
    paths: list[Path] = typer.Argument(..., help="Files or folders to track."),
    jobs: int | None = JOBS,
    quiet: bool = QUIET,
) -> None:
    """Store files or folders in the cache and write their .loom pointer files."""
    from loom.cli.data_run import run_add

    run_add(paths, jobs, quiet, progress_bars)


def status(
    paths: list[Path] = PATHS, jobs: int | None = JOBS, as_json: bool = JSON, quiet: bool = QUIET
) -> None:
    """Show added, modified and deleted files against each pointer."""
    from loom.data.status import status as get_status

    with progress_bars(quiet or as_json) as bars:
        rows = get_status(_ws(), paths or [], jobs=jobs, progress=bars)
    from loom.cli.fast import print_status, status_code

    if as_json:
        output.print_json([r.as_dict() for r in rows])
    else:
        print_status(rows)  # the same lines as the fast path of the console script
    if status_code(rows):
        raise typer.Exit(1)


def checkout(
    paths: list[Path] = PATHS,
    force: bool = typer.Option(False, "-f", "--force", help="Discard changes not in the cache."),
    jobs: int | None = JOBS,
    quiet: bool = QUIET,
) -> None:
    """Make the workspace match the pointers (e.g. after `git checkout`)."""
    from loom.cli.data_run import run_checkout

    run_checkout(paths or [], force, jobs, quiet, progress_bars)


def _sync(verb: str, paths, remote, jobs, quiet, as_json, **kw) -> None:
    from loom.cli.data_run import run_sync

    run_sync(verb, paths or [], remote, jobs, quiet, as_json, progress_bars, **kw)


def push(
    paths: list[Path] = PATHS,
    remote: str | None = REMOTE,
    jobs: int | None = JOBS,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Send the cached objects of the pointers that the remote lacks."""
    _sync("push", paths, remote, jobs, quiet, as_json)


def fetch(
    paths: list[Path] = PATHS,
    remote: str | None = REMOTE,
    jobs: int | None = JOBS,
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Bring the pointers' objects from the remote into the cache (no checkout)."""
    _sync("fetch", paths, remote, jobs, quiet, as_json)


def pull(
    paths: list[Path] = PATHS,
    remote: str | None = REMOTE,
    jobs: int | None = JOBS,
    force: bool = typer.Option(False, "-f", "--force", help="Discard changes not in the cache."),
    quiet: bool = QUIET,
    as_json: bool = JSON,
) -> None:
    """Fetch the pointers' objects from the remote, then check them out."""
    _sync("pull", paths, remote, jobs, quiet, as_json, force=force)


def gc(
    workspace: bool = typer.Option(False, "-w", "--workspace", help="Keep what pointers use now."),
    all_commits: bool = typer.Option(
        False, "-a", "--all-commits", help="Also keep what any commit of any branch or tag uses."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would be removed."),
    grace: float | None = typer.Option(
        None, "--grace", help="Keep objects younger than this many seconds (default 3600)."
    ),
    as_json: bool = JSON,
) -> None:
    """Remove cached objects that no kept pointer (nor any run's artifact) references."""
    from loom.data.gc import gc as collect
    from loom.errors import UsageError

    if workspace == all_commits:
        raise UsageError(
            "Say what to keep: --workspace or --all-commits (one of them).",
            hint="loom gc --workspace --dry-run",
        )
    ws = _ws()
    r = collect(
        ws, all_commits=all_commits, dry_run=dry_run, grace_seconds=grace, also=_run_artifacts(ws)
    )
    if as_json:
        output.print_json(r.as_dict())
        return
    verb = "Would remove" if dry_run else "Removed"
    output.console.print(f"{verb} {len(r.removed)} object(s), {r.bytes} bytes; kept {r.kept}.")
    for rel in r.unknown_trees:
        output.console.print(f"[yellow]Warning:[/] folder listing of {escape(rel)} is not cached.")


def _run_artifacts(ws) -> set[str]:
    """Objects that tracked runs' artifacts use, when runs keep them in this workspace's cache.

    gc must keep them. loom.data sits below the tracking store and can't ask it,
    so the CLI, which may import anything, asks the client and passes them down.
    """
    from loom.tracking.uri import artifact_root, resolve_tracking_uri, sqlite_path

    uri = resolve_tracking_uri()
    if artifact_root(uri).resolve() != ws.odb.root.resolve():
        return set()
    db = sqlite_path(uri)
    if db is not None and not db.exists():
        return set()  # no run was ever logged here
    from loom.tracking.client import Client

    with Client(uri) as client:
        return client.artifact_hashes()


def fsck(jobs: int | None = JOBS, quiet: bool = QUIET, as_json: bool = JSON) -> None:
    """Verify every cached object; exits 1 if any is corrupt."""
    from loom.data.fsck import fsck as verify

    with progress_bars(quiet or as_json) as bars:
        r = verify(_ws(), jobs=jobs, progress=bars)
    if as_json:
        output.print_json(r.as_dict())
    else:
        for p in r.problems:
            used = f" (used by {', '.join(p['used_by'])})" if p["used_by"] else ""
            line = escape(p["message"] + used)
            output.err_console.print(f"[red]Corrupt:[/] {line}", soft_wrap=True)
        if not quiet:
            output.console.print(f"Checked {r.checked} object(s): {len(r.problems)} problem(s).")
    if not r.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    for command in (init, add, status, checkout, fetch, push, pull, gc, fsck):
        app.command(command.__name__)(command)
