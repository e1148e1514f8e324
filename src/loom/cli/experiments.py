"""``loom exp run``, ``loom exp show`` (in the ``loom exp`` group) and ``loom reproduce``.

$ loom exp run -S train.lr=0.01 -S train.epochs=20 --name lr-001
$ loom exp run --queue -S train.lr=0.02 && loom exp run --run-all -j 2
$ loom exp show --json
$ loom reproduce RUN_ID --check
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from loom.cli import output
from loom.cli.tracking import JSON, exp_app
from loom.errors import UsageError

STAGES = typer.Argument(
    None, metavar="STAGES", help="Stages to bring up to date (default: all).", show_default=False
)


def _ws():
    from loom.data.workspace import Workspace

    return Workspace.find()


def _console(as_json: bool, prefix: bool):
    from loom.pipelines.executor import Console

    # with --json, stdout holds the JSON alone: the stages' output goes to stderr
    return Console(prefix=prefix, out=sys.stderr if as_json else None)


@exp_app.command("run")
def exp_run(
    stages: list[str] | None = STAGES,
    set_param: list[str] | None = typer.Option(
        None,
        "-S",
        "--set-param",
        metavar="[FILE:]KEY=VALUE",
        help="Set a param for this experiment (repeatable); FILE defaults to params.yaml.",
    ),
    name: str | None = typer.Option(None, "-n", "--name", help="Name the experiment."),
    queue: bool = typer.Option(False, "--queue", help="Only queue it; --run-all runs the queue."),
    run_all: bool = typer.Option(
        False, "--run-all", help="Run every queued experiment, each in its own git worktree."
    ),
    jobs: int | None = typer.Option(
        None, "-j", "--jobs", help="With --run-all: experiments at once; else stages at once."
    ),
    as_json: bool = JSON,
) -> None:
    """Run the pipeline with changed params and record it as an experiment."""
    from loom.pipelines.experiments import run as exps

    if run_all:
        if set_param or name or queue or stages:
            raise UsageError(
                "--run-all runs what is queued; it takes no -S, --name, --queue or stages.",
                hint="Queue experiments with `loom exp run --queue -S …`, then "
                "`loom exp run --run-all -j 2`.",
            )
        return _run_all(jobs or 1, as_json)
    ws = _ws()
    if queue:
        result = exps.enqueue(ws, set_param or [], name=name, targets=stages or [])
        if as_json:
            return output.print_json(result.as_dict())
        said = ", ".join(result.overrides) or "no changes"
        return output.say(
            f"Queued experiment {result.name} ({said}). Run the queue with "
            "`loom exp run --run-all`."
        )
    try:
        result = exps.run_in_workspace(
            ws,
            set_param or [],
            name=name,
            targets=stages or [],
            jobs=jobs or 1,
            console=_console(as_json, (jobs or 1) > 1),
        )
    except Exception as exc:
        failed = getattr(exc, "fields", {}).get("experiment")
        if failed is not None:
            if as_json:
                output.print_json(failed.as_dict())
            output.print_warning(f"Experiment {failed.name} is recorded {failed.status}.")
        raise
    if as_json:
        return output.print_json(result.as_dict())
    output.say(f"Experiment {result.name} finished{_metrics(result.metrics)}.")


def _run_all(jobs: int, as_json: bool) -> None:
    from loom.pipelines.experiments.run_all import ExperimentsFailed, run_queue

    try:
        results = run_queue(_ws(), jobs=jobs, console=_console(as_json, True))
    except ExperimentsFailed as exc:
        if as_json:
            output.print_json([r.as_dict() for r in exc.fields["experiments"]])
        raise
    if as_json:
        return output.print_json([r.as_dict() for r in results])
    if not results:
        return output.say("No experiment is queued (`loom exp run --queue -S …` queues one).")
    for r in results:
        output.say(f"Experiment {r.name} finished{_metrics(r.metrics)}.")


def _metrics(metrics: dict[str, float]) -> str:
    shown = [f"{k}={v:.6g}" for k, v in sorted(metrics.items())[:6]]
    return (": " + ", ".join(shown)) if shown else ""


@exp_app.command("show")
def exp_show(
    all_params: bool = typer.Option(
        False, "--all-params", help="Every param and data version, not only those that differ."
    ),
    as_json: bool = JSON,
) -> None:
    """The experiments, newest first: status, commit, params, metrics, data versions."""
    from loom.pipelines.experiments.show import show

    table = show(_ws(), all_params=all_params)
    if as_json:
        return output.print_json([r.as_dict() for r in table.rows])
    if not table.rows:
        return output.say("No experiments yet: `loom exp run -S KEY=VALUE` runs one.")
    header, rows = _cells(table)
    if not sys.stdout.isatty():  # piped: plain aligned columns, never cut to a width
        return _plain(header, rows)
    from rich.markup import escape
    from rich.table import Table

    fixed = 4 + len(table.params)
    rich_table = Table(*map(escape, header[:fixed]))
    for key in header[fixed:]:
        rich_table.add_column(escape(key), justify="right", style="cyan", no_wrap=True)
    for row in rows:
        rich_table.add_row(*map(escape, row))
    output.console.print(rich_table)


def _plain(header: list[str], rows: list[list[str]]) -> None:
    """Columns aligned with spaces, nothing cut: for pipes and for tests."""
    widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=True)]
    for line in (header, *rows):
        output.say("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


def _cells(t: Any) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the table: name, status, created, commit, params, then
    metrics and data versions (short hashes)."""
    from loom.cli.tracking import _num, _time

    header = ["experiment", "status", "created", "commit", *t.params, *t.metrics, *t.deps]
    rows = []
    for r in t.rows:
        cells = [r.name, r.status, _time(r.created)[5:], (r.commit or "")[:7]]
        cells += [r.params.get(k, "") for k in t.params]
        cells += [_num(r.metrics.get(k)) for k in t.metrics]
        cells += [r.deps.get(p, "")[:8] for p in t.deps]
        rows.append(cells)
    return header, rows


def reproduce(
    run: str = typer.Argument(
        ..., metavar="RUN_ID", help="A run id (or a unique prefix), or an experiment's name."
    ),
    check: bool = typer.Option(
        False, "--check", help="Exit 1 when a metric differs from the run's, or is gone."
    ),
    tolerance: float | None = typer.Option(
        None, "--tolerance", metavar="REL", help="Relative difference allowed (default: exact)."
    ),
    keep: bool = typer.Option(False, "--keep", help="Keep the worktree; its path is printed."),
    as_json: bool = JSON,
) -> None:
    """Rebuild a run from its commit, data versions and params in a temporary git worktree,
    and compare its metrics."""
    from loom.pipelines.experiments import reproduce as rep

    try:
        r = rep.reproduce(
            _ws(), run, keep=keep, tolerance=tolerance or 0.0, console=_console(as_json, False)
        )
    except rep.ReproduceFailed as exc:
        if as_json:
            output.print_json(exc.fields["reproduction"].as_dict())
        raise
    if as_json:
        output.print_json(r.as_dict())
    else:
        _say_reproduction(r)
    differ = rep.differences(r)
    if check and differ:
        raise rep.MetricsDiffer(
            f"{len(differ)} metric(s) of the rebuild differ from run {r.run_id[:8]}'s: "
            + ", ".join(f"{m.key} ({_num(m.was)} -> {_num(m.now)})" for m in differ[:5])
            + ".",
            hint="Something the run depends on is not recorded (randomness without a seed, "
            "the time, the network); --tolerance REL allows small differences.",
            metrics=[m.key for m in differ],
        )


def _num(v: float | None) -> str:
    return "gone" if v is None else f"{v:.6g}"


def _say_reproduction(r: Any) -> None:
    header = ["metric", "was", "now", "diff"]
    rows = [
        [m.key, _num(m.was), _num(m.now), "" if m.diff is None else f"{m.diff:+.6g}"]
        for m in r.metrics
    ]
    if rows:
        _plain(header, rows)
    verdict = "the same metrics" if r.same else "different metrics"
    output.say(
        f"Rebuilt run {r.run_id[:8]} ({r.name}) at {r.commit[:7]} as run {r.new_run_id}: {verdict}."
    )
    if r.unplaced_params:
        output.say(
            "Params of the run that no params file holds (left as they are): "
            + ", ".join(r.unplaced_params)
        )
    if r.worktree:
        output.say(f"Worktree kept at {r.worktree}")


def register(app: Any) -> None:
    """``exp run`` and ``exp show`` join ``loom exp`` (defined with the tracking commands);
    ``reproduce`` is a command of its own."""
    app.command("reproduce")(reproduce)
