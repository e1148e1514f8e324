"""``loom exp …`` and ``loom runs …``: thin commands over :class:`loom.Client`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import typer
from rich.markup import escape
from rich.table import Column, Table

from loom.cli import output

exp_app = typer.Typer(
    help="Experiments: run and show pipeline experiments; list, create, rename, delete, "
    "restore tracking experiments.",
    no_args_is_help=True,
)
runs_app = typer.Typer(
    help="Runs: list, show, compare, artifacts, delete, restore, mark-stale.", no_args_is_help=True
)

URI = typer.Option(
    None, "--tracking-uri", envvar="LOOM_TRACKING_URI", help="Store URI (default: resolved)."
)
JSON = typer.Option(False, "--json", help=output.JSON_HELP)


def _client(uri: str | None):
    from loom.tracking.client import Client

    return Client(uri)


def _view(deleted: bool, all_: bool):
    from loom.store.entities import ViewType

    return ViewType.ALL if all_ else ViewType.DELETED_ONLY if deleted else ViewType.ACTIVE_ONLY


def _time(ms: int | None) -> str:
    if not ms:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def _duration(run) -> str:
    return f"{(run.end_time - run.start_time) / 1000:.1f}s" if run.end_time else ""


def _jsonable(obj: Any) -> Any:
    is_instance = dataclasses.is_dataclass(obj) and not isinstance(obj, type)
    return dataclasses.asdict(obj) if is_instance else obj


# -- experiments -------------------------------------------------------------


@exp_app.command("list")
def exp_list(
    deleted: bool = typer.Option(False, "--deleted", help="Only deleted experiments."),
    all_: bool = typer.Option(False, "--all", help="Active and deleted experiments."),
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """List experiments."""
    with _client(uri) as c:
        exps = c.list_experiments(_view(deleted, all_))
    if as_json:
        return output.print_json([_jsonable(e) for e in exps])
    table = Table("id", "name", "state", "created")
    for e in exps:
        table.add_row(e.experiment_id, e.name, str(e.lifecycle_stage), _time(e.creation_time))
    output.console.print(table)


@exp_app.command("create")
def exp_create(name: str, as_json: bool = JSON, uri: str | None = URI) -> None:
    """Create an experiment named NAME."""
    with _client(uri) as c:
        exp = c.create_experiment(name)
    if as_json:
        return output.print_json(_jsonable(exp))
    output.console.print(f"Created experiment {exp.name!r} (id {exp.experiment_id}).")


@exp_app.command("rename")
def exp_rename(old: str, new: str, uri: str | None = URI) -> None:
    """Rename experiment OLD (name or id) to NEW."""
    with _client(uri) as c:
        c.rename_experiment(c.experiment(old).experiment_id, new)
    output.console.print(f"Renamed experiment {old!r} to {new!r}.")


@exp_app.command("delete")
def exp_delete(name: str, uri: str | None = URI) -> None:
    """Delete experiment NAME (soft: `loom exp restore NAME` brings it back)."""
    with _client(uri) as c:
        c.delete_experiment(c.experiment(name).experiment_id)
    output.console.print(f"Deleted experiment {name!r}. Undo with `loom exp restore {name}`.")


@exp_app.command("restore")
def exp_restore(name: str, uri: str | None = URI) -> None:
    """Restore the deleted experiment NAME."""
    with _client(uri) as c:
        c.restore_experiment(c.experiment(name).experiment_id)
    output.console.print(f"Restored experiment {name!r}.")


# -- runs --------------------------------------------------------------------


@runs_app.command("list")
def runs_list(
    experiment: list[str] = typer.Option(
        None, "-e", "--experiment", help="Experiment name or id (repeatable; default: all)."
    ),
    filter_string: str = typer.Option("", "--filter", "-f", help='e.g. "metrics.acc > 0.9".'),
    order_by: list[str] = typer.Option(None, "--order-by", help='e.g. "metrics.acc DESC".'),
    max_results: int = typer.Option(100, "--max-results", "-n", help="At most this many runs."),
    page_token: str | None = typer.Option(None, "--page-token", help="Continue a listing."),
    deleted: bool = typer.Option(False, "--deleted", help="Only deleted runs."),
    all_: bool = typer.Option(False, "--all", help="Active and deleted runs."),
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """List runs of experiments, filtered and ordered like MLflow's search."""
    with _client(uri) as c:
        if experiment:
            ids = [c.experiment(e).experiment_id for e in experiment]
        else:
            ids = [e.experiment_id for e in c.list_experiments()]
        page = c.search_runs(
            ids,
            filter_string,
            order_by=order_by or None,
            max_results=max_results,
            page_token=page_token,
            view=_view(deleted, all_),
        )
        # JSON has whole ids; a table shows each cut to a prefix no other run shares
        short = {} if as_json else c.run_id_prefixes([r.run_id for r in page.items])
    if as_json:
        runs = [_jsonable(r) for r in page.items]
        return output.print_json({"runs": runs, "next_page_token": page.next_page_token})
    metric_keys = sorted({k for r in page.items for k in r.metrics})[:6]
    id_width = max((len(v) for v in short.values()), default=8)
    table = Table(
        Column("run id", no_wrap=True, min_width=id_width),
        "name",
        "status",
        Column("started", no_wrap=True),
        "duration",
    )
    for k in metric_keys:
        table.add_column(k, justify="right")
    for r in page.items:
        values = [_num(r.metrics.get(k)) for k in metric_keys]
        started = _time(r.start_time)[5:]  # the year is noise in a listing
        table.add_row(short[r.run_id], r.name, str(r.status), started, _duration(r), *values)
    output.console.print(table)
    if page.next_page_token:
        output.console.print(f"More runs: --page-token {page.next_page_token}")


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


def _run_details(c, ref: str) -> dict[str, Any]:
    from loom.tracking.compare import split_tags

    run = c.get_run(c.resolve_run_id(ref))
    user_tags, env_tags = split_tags(run.tags)
    return {
        **_jsonable(run),
        "tags": user_tags,
        "environment": env_tags,
        "artifacts": [_jsonable(a) for a in c.list_artifacts(run.run_id)],
    }


@runs_app.command("show")
def runs_show(run_id: str, as_json: bool = JSON, uri: str | None = URI) -> None:
    """Params, latest metrics, tags, inputs, environment and artifacts of RUN_ID."""
    with _client(uri) as c:
        d = _run_details(c, run_id)
    if as_json:
        return output.print_json(d)
    con = output.console
    con.print(f"[bold]Run {d['run_id']}[/] {d['name']!r} — {d['status']}")
    con.print(
        f"experiment {d['experiment_id']}, started {_time(d['start_time'])}, "
        f"ended {_time(d['end_time']) or '-'}, user {d['user'] or '-'}"
    )
    for title in ("params", "metrics", "tags", "environment"):
        if d[title]:
            table = Table("key", "value", title=title)
            for k, v in sorted(d[title].items()):
                table.add_row(k, _num(v) if title == "metrics" else str(v))
            con.print(table)
    if d["inputs"]:
        table = Table("path", "hash", "size", "kind", "git rev", "modified", title="inputs")
        for i in d["inputs"]:
            # modified: the run read uncommitted content of a tracked path
            changed = "[yellow]yes[/]" if i["modified"] else ""
            size = "" if i["size"] is None else output.size(i["size"])
            row = (i["path"], i["hash"][:16], size, i["kind"], i["git_rev"] or "")
            table.add_row(*map(escape, row), changed)
        con.print(table)
    _artifact_table(d["artifacts"])


def _artifact_table(arts: list[dict[str, Any]]) -> None:
    if not arts:
        return
    table = Table("path", "size", "hash", title="artifacts")
    for a in arts:
        table.add_row(a["path"], output.size(a["size"]), a["hash"][:16])
    output.console.print(table)


@runs_app.command("compare")
def runs_compare(
    run_ids: list[str] = typer.Argument(..., help="Two or more run ids (or unique prefixes)."),
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """Side by side: attributes, params, metrics and tags; differing rows highlighted."""
    from loom.tracking.compare import compare_runs

    with _client(uri) as c:
        runs = [c.get_run(c.resolve_run_id(r)) for r in run_ids]
        short = c.run_id_prefixes([r.run_id for r in runs])
    rows = compare_runs(runs)
    if as_json:
        return output.print_json(
            {
                "runs": [r.run_id for r in runs],
                "rows": [{"key": r.key, "values": r.values, "differs": r.differs} for r in rows],
            }
        )
    table = Table("", *[short[r.run_id] for r in runs])
    for row in rows:
        cells = [escape(_cell(row.key, row.section, v)) for v in row.values]
        table.add_row(escape(row.key), *cells, style="bold yellow" if row.differs else None)
    output.console.print(table)


def _cell(key: str, section: str, v: Any) -> str:
    if v is None:
        return "—"
    if key == "started":
        return _time(v)
    if key == "duration":
        return f"{v / 1000:.1f}s"
    return _num(v) if section == "metrics" else str(v)


@runs_app.command("artifacts")
def runs_artifacts(
    run_id: str,
    download: str | None = typer.Option(None, "--download", help="Copy them into this folder."),
    path: str = typer.Option("", "--path", help="Only this artifact file or folder."),
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """List the artifacts of RUN_ID, or download them."""
    with _client(uri) as c:
        rid = c.resolve_run_id(run_id)
        if download:
            dst = c.download_artifacts(rid, path, download)
            return output.console.print(f"Downloaded artifacts of {rid} to {dst}.")
        arts = [_jsonable(a) for a in c.list_artifacts(rid, path or None)]
    if as_json:
        return output.print_json(arts)
    _artifact_table(arts)


@runs_app.command("delete")
def runs_delete(run_id: str, uri: str | None = URI) -> None:
    """Delete RUN_ID (soft: `loom runs restore` brings it back)."""
    with _client(uri) as c:
        rid = c.resolve_run_id(run_id)
        c.delete_run(rid)
    output.console.print(f"Deleted run {rid}. Undo with `loom runs restore {rid}`.")


@runs_app.command("restore")
def runs_restore(run_id: str, uri: str | None = URI) -> None:
    """Restore the deleted RUN_ID."""
    with _client(uri) as c:
        rid = c.resolve_run_id(run_id)
        c.restore_run(rid)
    output.console.print(f"Restored run {rid}.")


@runs_app.command("mark-stale")
def runs_mark_stale(
    older_than: float | None = typer.Option(
        None, "--older-than", help="Also runs with no activity for this many seconds (any host)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="List them; change nothing."),
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """Mark KILLED the RUNNING runs whose process died (pid gone on this host)."""
    with _client(uri) as c:
        runs = c.mark_stale(older_than=older_than, dry_run=dry_run)
    if as_json:
        return output.print_json([r.run_id for r in runs])
    verb = "Would mark" if dry_run else "Marked"
    output.console.print(f"{verb} {len(runs)} stale run(s) KILLED.")
    for r in runs:
        output.console.print(f"  {r.run_id} {r.name} (pid {r.tags.get('loom.pid', '?')})")


def register(app: typer.Typer) -> None:
    app.add_typer(exp_app, name="exp")
    app.add_typer(runs_app, name="runs")
