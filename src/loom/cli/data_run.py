"""The bodies of the data commands, free of typer and rich at import.

The typer commands (``loom.cli.data``) and the console script's fast path
(``loom.cli.fast``) both parse with ``loom.cli.spec`` and then call
``run(name, keywords)``, so the output is the same either way. Each body
takes exactly the keywords its spec declares.

    >>> run("fsck", {"jobs": None, "quiet": True, "as_json": False})  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from loom.cli.output import paint, print_json, print_warning, say, size
from loom.cli.progress import bars

_COLOURS = {"clean": "32", "modified": "31", "deleted": "31", "broken": "31", "invalid": "31"}


def run(name: str, keywords: dict[str, Any]) -> int:
    """Call the body of command ``name`` (a function below, named after it); its exit code."""
    body = globals()[name]
    return body(**keywords) or 0


def _ws():
    from loom.data.workspace import Workspace

    return Workspace.find()


def init(no_scm: bool, force: bool) -> None:
    from loom.data.workspace import init as init_ws

    ws = init_ws(Path.cwd(), no_scm=no_scm, force=force)
    say(f"Initialized Loom workspace in {ws.loom_dir}")
    if ws.has_git:
        say("Next: git add .loom/config.toml .loom/.gitignore && git commit")


def add(paths: list[str], jobs: int | None, quiet: bool) -> None:
    from loom.data.add import add as add_paths

    ws = _ws()
    with bars(quiet) as progress:
        pointers = add_paths(ws, paths, jobs=jobs, progress=progress)
    if quiet:
        return
    for p in pointers:
        what = f"{p.files} files, " if p.kind == "dir" else ""
        say(f"Added {p.rel} ({what}{size(p.size)}) -> {p.pointer_rel}")
    if ws.has_git:
        say(f"To track the changes with git, run:\n  git add {' '.join(_git_paths(pointers))}")


def _git_paths(pointers) -> list[str]:
    import shlex

    out: list[str] = []
    for p in pointers:
        folder = p.rel.rsplit("/", 1)[0] + "/" if "/" in p.rel else ""
        out += [shlex.quote(p.pointer_rel), shlex.quote(folder + ".gitignore")]
    return list(dict.fromkeys(out))


def status(paths: list[str], jobs: int | None, as_json: bool, quiet: bool) -> int:
    """Exit code 1 when a row is broken or invalid (a pointer contradicts its data)."""
    from loom.data.status import BAD_STATES
    from loom.data.status import status as get_status

    ws = _ws()
    with bars(quiet or as_json) as progress:
        rows = get_status(ws, paths, jobs=jobs, progress=progress)
    # stages too when there is a loom.yaml: one stat when there is none
    stages = None if paths or not (ws.root / "loom.yaml").is_file() else _stages(ws, rows, as_json)
    if as_json:
        print_json([r.as_dict() for r in rows] + [d.as_dict() for d in stages or ()])
    else:
        print_status(rows, bool(stages))
        if stages:
            print_stages(stages)
    return 1 if any(r.state in BAD_STATES for r in rows) else 0


def _stages(ws, rows: list, as_json: bool) -> list:
    """Which stages ``loom repro`` would run; on an error in loom.yaml, the data rows
    are shown first, then the error."""
    from loom.errors import LoomError
    from loom.pipelines.status import stages

    try:
        return stages(ws)
    except LoomError:
        if as_json:
            print_json([r.as_dict() for r in rows])
        else:
            print_status(rows, True)
        raise


def print_stages(decisions: list) -> None:
    """The stages after the data rows: one line each, what ``loom repro`` would do and why."""
    out = sys.stdout
    width = max(len(d.name) for d in decisions)
    lines = ["Stages:"]
    for d in decisions:
        state = {"run": "will run", "restore": "restores"}.get(d.action, "up to date")
        if d.action == "skip" and d.reason != "up to date":
            state = d.reason
        colour = "32" if d.action == "skip" else "31"
        why = f": {d.reason}" if d.action != "skip" else ""
        lines.append(f"  {d.name:{width}}  {paint(out, colour, state)}{why}")
    out.write("".join(line + "\n" for line in lines))


def print_status(rows: list, pipeline: bool = False) -> None:
    """Write ``loom status`` rows to stdout, coloured on a terminal (NO_COLOR is honoured)."""
    out = sys.stdout
    lines = [] if rows or pipeline else ["Nothing is tracked yet; `loom add PATH` starts."]
    for r in rows:
        cache = "" if r.in_cache else " " + paint(out, "33", "(not in cache)")
        lines.append(f"{paint(out, _COLOURS.get(r.state, '0'), f'{r.state:9}')} {r.path}{cache}")
        for label, names in (("added", r.added), ("modified", r.modified), ("deleted", r.deleted)):
            lines.extend(f"    {label}: {r.path}/{name}" for name in names)
        broken = [(name, why) for name, why in r.broken.items() if name]
        lines.extend(f"    broken: {r.path}/{name} is {why}" for name, why in broken)
        if r.problem:
            lines.append(f"    {r.problem}" + (f"\n    Hint: {r.hint}" if r.hint else ""))
    out.write("".join(line + "\n" for line in lines))


def checkout(paths: list[str], force: bool, jobs: int | None, quiet: bool) -> None:
    from loom.data.checkout import checkout as do_checkout

    with bars(quiet) as progress:
        r = do_checkout(_ws(), paths, force=force, jobs=jobs, progress=progress)
    if not quiet:
        say(f"{r.written} file(s) written, {r.removed} removed, {r.unchanged} path(s) unchanged.")


def fetch(paths: list[str], remote: str | None, jobs: int | None, quiet: bool, as_json: bool):
    _sync("fetch", paths, remote, jobs, quiet, as_json)


def push(
    paths: list[str],
    remote: str | None,
    jobs: int | None,
    quiet: bool,
    as_json: bool,
    all_commits: bool,
    all_tags: bool,
    all_branches: bool,
) -> None:
    wide = {"all_commits": all_commits, "all_tags": all_tags, "all_branches": all_branches}
    _sync("push", paths, remote, jobs, quiet, as_json, **wide)


def pull(
    paths: list[str], remote: str | None, jobs: int | None, quiet: bool, as_json: bool, force: bool
):
    _sync("pull", paths, remote, jobs, quiet, as_json, force=force)


def _sync(verb: str, paths: list[str], remote, jobs, quiet: bool, as_json: bool, **kw) -> None:
    from loom.data import sync
    from loom.errors import LoomError

    with bars(quiet or as_json) as progress:
        try:
            r = getattr(sync, verb)(_ws(), paths, remote=remote, jobs=jobs, progress=progress, **kw)
        except LoomError as exc:  # a partial push, fetch or pull: what was done, then the error
            done = exc.fields.get("result")
            if as_json and isinstance(done, sync.SyncResult):
                print_json(done.as_dict())
            raise
    if as_json:
        print_json(r.as_dict())
    elif not quiet:
        say(
            f"{verb.capitalize()}: {r.transferred} object(s) transferred ({size(r.bytes)}), "
            f"{r.skipped} already there. Remote: {r.remote}"
        )
        if r.artifacts:
            say(f"Run artifacts: {r.artifacts} object(s) included.")
        if r.refs:
            say(f"Run cache: {r.refs} entr{'y' if r.refs == 1 else 'ies'} {verb}ed.")
        if r.checkout is not None:
            say(f"Checkout: {r.checkout.written} written, {r.checkout.removed} removed.")


def gc(workspace: bool, all_commits: bool, dry_run: bool, grace: float | None, as_json: bool):
    from loom.data.gc import gc as collect
    from loom.errors import UsageError

    if workspace == all_commits:
        raise UsageError(
            "Say what to keep: --workspace or --all-commits (one of them).",
            hint="loom gc --workspace --dry-run",
        )
    ws = _ws()
    # gc keeps what the cache's refs name; a cache from before refs gets them for the
    # default store first (once), so upgrading Loom never costs old runs' artifacts.
    from loom.tracking.artifact_refs import backfill_resolved

    backfill_resolved(ws.odb)
    r = collect(ws, all_commits=all_commits, dry_run=dry_run, grace_seconds=grace)
    if as_json:
        print_json(r.as_dict())
        return
    verb = "Would remove" if dry_run else "Removed"
    runs = f" ({r.run_objects} of them for tracked runs)" if r.run_objects else ""
    say(f"{verb} {len(r.removed)} object(s), {size(r.bytes)}; kept {r.kept}{runs}.")
    for rel in r.unknown_trees:
        print_warning(f"The folder listing of {rel} is not cached.")


def fsck(jobs: int | None, quiet: bool, as_json: bool) -> int:
    from loom.data.fsck import fsck as verify

    with bars(quiet or as_json) as progress:
        r = verify(_ws(), jobs=jobs, progress=progress)
    if as_json:
        print_json(r.as_dict())
    else:
        for p in r.problems:
            used = f" (used by {', '.join(p['used_by'])})" if p["used_by"] else ""
            sys.stderr.write(f"{paint(sys.stderr, '31', 'Corrupt:')} {p['message']}{used}\n")
        if not quiet:
            say(f"Checked {r.checked} object(s): {len(r.problems)} problem(s).")
    return 0 if r.ok else 1
