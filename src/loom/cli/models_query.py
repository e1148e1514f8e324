"""``loom models at`` (the seeds' question) and ``loom models diff``: thin over loom.lineage."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from loom.cli import output
from loom.cli.models import JSON, URI, client, models_app, when


@models_app.command("at")
def at(
    name: str = typer.Argument(..., help="The registered model."),
    alias: str = typer.Argument(..., help="The alias, e.g. production."),
    moment: str = typer.Argument(
        ..., metavar="WHEN", help="2026-03-15 (the end of that day), 2026-03-15T12:00, …+02:00."
    ),
    metric: str | None = typer.Option(None, "--metric", help="Only this metric."),
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """Which version held ALIAS at WHEN: its metrics, run, git commit and data versions."""
    from loom.lineage.at import version_at
    from loom.timeparse import parse_time

    time_ms = parse_time(moment)
    with client(uri) as c:
        answer = version_at(c, name, alias, time_ms, metric=metric)
    if as_json:
        return output.print_json(answer.to_dict())
    _print_answer(answer)


def _print_answer(a) -> None:
    mv, run, say = a.version, a.run, output.say
    semver = f" ({mv.semver})" if mv.semver else ""
    say(f"{a.name}@{a.alias} at {when(a.at)}: version {mv.version}{semver}")
    if a.event is not None:
        by = f" by {a.event.user}" if a.event.user else ""
        why = f": {a.event.comment}" if a.event.comment else ""
        say(f"  held since {when(a.event.time)}{by}{why}")
    if run is None:
        say(f"  run      {mv.run_id or '-'}" + (" (not in this store)" if mv.run_id else ""))
    else:
        say(f"  run      {run.name} {run.run_id} ({run.status})")
        dirty = " (uncommitted changes)" if a.git_dirty else ""
        say(f"  commit   {a.git_commit or '- (not recorded)'}{dirty}")
    metrics = ", ".join(f"{k}={v:.6g}" for k, v in a.metrics.items())
    say(f"  metrics  {metrics or '-'}")
    if not a.inputs:
        say("  data     - (the run logged no inputs)")
    for i, item in enumerate(a.inputs):
        rev = f" at git {item.git_rev[:10]}" if item.git_rev else ""
        changed = " (modified: not committed)" if item.modified else ""
        size = f" {output.size(item.size)}" if item.size is not None else ""
        head = "  data     " if i == 0 else "           "
        say(f"{head}{item.path} {item.kind} {item.hash[:12]}{size}{rev}{changed}")


@models_app.command("diff")
def diff(
    name: str = typer.Argument(..., help="The registered model."),
    versions: list[str] = typer.Argument(
        ..., metavar="V1 V2", help="Two or more versions: numbers, latest, or aliases."
    ),
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """Versions side by side: params, metrics, data inputs, git commits; differences bold."""
    from loom.errors import UsageError
    from loom.lineage.diff import diff_versions
    from loom.lineage.models import version_ref

    if len(versions) < 2:
        raise UsageError("Give two versions to compare.", hint=f"loom models diff {name} 1 2")
    with client(uri) as c:
        d = diff_versions(c, name, *[version_ref(v) for v in versions])
    if as_json:
        rows = [
            {"key": r.key, "section": r.section, "values": r.values, "differs": r.differs}
            for r in d.rows
        ]
        return output.print_json({"name": name, "versions": [mv.version for mv in d.versions],
                                  "rows": rows})  # fmt: skip
    table = Table("", *[f"v{mv.version}" for mv in d.versions])
    for r in d.rows:
        cells = [escape(_cell(r.key, r.section, v)) for v in r.values]
        table.add_row(escape(r.key), *cells, style="bold yellow" if r.differs else None)
    output.console.print(table)


def _cell(key: str, section: str, v: object) -> str:
    if v is None:
        return "—"
    if key in ("created", "started"):
        return when(v)  # type: ignore[arg-type]
    if key == "duration":
        return f"{v / 1000:.1f}s"  # type: ignore[operator]
    if key == "tree" or section == "inputs":  # hashes, short; " (modified)" kept
        return ", ".join(h[:12] + h[64:] for h in str(v).split(", "))
    if section == "metrics":
        return f"{v:.6g}"
    return str(v)


def register(app: typer.Typer) -> None:
    """The commands are on ``models_app``, which ``loom.cli.models`` adds to ``app``."""
