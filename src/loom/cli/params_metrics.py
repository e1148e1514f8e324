"""``loom params diff``, ``loom metrics show|diff``, ``loom plots diff``: the pipeline's
params, metrics and plots at git revisions or in the workspace, as DVC's commands of the
same names (``loom.pipelines.params_diff``, ``.metrics``, ``.plots`` do the work)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from loom.cli import output

if TYPE_CHECKING:
    from loom.pipelines.compare import Change, Diff

params_app = typer.Typer(help="Params of the pipeline: diff.", no_args_is_help=True)
metrics_app = typer.Typer(help="Metrics of the pipeline: show, diff.", no_args_is_help=True)
plots_app = typer.Typer(help="Plots of the pipeline: diff (an HTML page).", no_args_is_help=True)

A_REV = typer.Argument(None, help="Old revision (default: HEAD).", show_default=False)
B_REV = typer.Argument(None, help="New revision (default: the workspace).", show_default=False)
ALL = typer.Option(False, "--all", help="Show unchanged values too.")
JSON = typer.Option(False, "--json", help=output.JSON_HELP)
# metrics are rounded as DVC rounds them; params are shown as written (1e-06 is no 0.0)
PRECISION = typer.Option(5, "--precision", min=0, help="Round metrics to N digits after the point.")
MISSING_CELL = "—"


@params_app.command("diff")
def params_diff(
    a_rev: str | None = A_REV,
    b_rev: str | None = B_REV,
    show_all: bool = ALL,
    deps: bool = typer.Option(False, "--deps", help="Only params that stages declare."),
    as_json: bool = JSON,
) -> None:
    """Params that changed from A_REV to B_REV (HEAD and the workspace by default)."""
    from loom.pipelines.params_diff import params_diff as diff

    found = diff(_root(), a_rev or "HEAD", b_rev, unchanged=show_all, deps=deps)
    _print_diff(found, "Param", as_json, None)


@metrics_app.command("show")
def metrics_show(as_json: bool = JSON, precision: int = PRECISION) -> None:
    """Metrics of the workspace: the metrics files of the stages of loom.yaml."""
    from rich.markup import escape
    from rich.table import Table

    from loom.pipelines.metrics import metrics_show as show

    found = show(_root())
    if as_json:
        return output.print_json(found)
    keys = list(dict.fromkeys(k for values in found.values() for k in values or {}))
    if not keys:
        return
    table = Table("Path", *map(escape, keys))
    for path, values in found.items():
        cells = [_cell((values or {}).get(k, _ABSENT), precision) for k in keys]
        table.add_row(escape(path), *map(escape, cells))
    output.console.print(table)


@metrics_app.command("diff")
def metrics_diff(
    a_rev: str | None = A_REV,
    b_rev: str | None = B_REV,
    show_all: bool = ALL,
    as_json: bool = JSON,
    precision: int = PRECISION,
) -> None:
    """Metrics that changed from A_REV to B_REV (HEAD and the workspace by default)."""
    from loom.pipelines.metrics import metrics_diff as diff

    found = diff(_root(), a_rev or "HEAD", b_rev, unchanged=show_all)
    _print_diff(found, "Metric", as_json, precision)


@plots_app.command("diff")
def plots_diff(
    revisions: list[str] = typer.Argument(
        None,
        help="Revisions to draw (default: HEAD and the workspace; one: it and the workspace).",
        show_default=False,
    ),
    out: Path = typer.Option(
        Path("loom_plots.html"), "-o", "--out", help="The HTML file to write.", metavar="FILE"
    ),
) -> None:
    """One self-contained HTML page: a chart per plots file, a line per revision."""
    from loom.pipelines.plots import plots_diff as draw

    output.say(str(draw(_root(), list(revisions or []), out)))


def _root() -> Path:
    from loom.data.workspace import Workspace

    return Workspace.find().root


def _print_diff(found: Diff, what: str, as_json: bool, precision: int | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    if as_json:
        return output.print_json(found.to_dict())
    if not found.changes:
        return  # as `git diff` and DVC: nothing changed, nothing printed
    old, new = found.old.label, found.new.label
    table = Table("Path", what, escape(old), escape(new), "Change")
    for c in found.changes:
        change = _cell(c.delta, precision) if c.delta is not None else _change(c)
        cells = (c.path, c.key, _cell(c.old, precision), _cell(c.new, precision), change)
        table.add_row(*map(escape, cells))
    output.console.print(table)


_ABSENT = object()


def _cell(v: Any, precision: int | None) -> str:
    from loom.pipelines.compare import MISSING

    if v is MISSING or v is _ABSENT:
        return MISSING_CELL
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return output.strict(v)
        return repr(v if precision is None else round(v, precision))
    if isinstance(v, str):
        # "10" and 10 must look different: a type change is a change
        return json.dumps(v, ensure_ascii=False) if _looks_typed(v) else v
    if isinstance(v, int):
        return str(v)
    return output.dumps(v, indent=None)


def _looks_typed(text: str) -> bool:
    """Whether ``text`` unquoted would read as a number, boolean or null (or is blank)."""
    import yaml

    try:
        return not isinstance(yaml.safe_load(text), str)
    except (ValueError, yaml.YAMLError):  # not YAML on its own (e.g. "a: b: c"): plain text
        return False


def _change(c: Change) -> str:
    """The Change cell of a value that is not a number on both sides."""
    if c.status in ("added", "deleted"):
        return c.status
    return "changed" if c.changed else MISSING_CELL


def register(app: typer.Typer) -> None:
    app.add_typer(params_app, name="params")
    app.add_typer(metrics_app, name="metrics")
    app.add_typer(plots_app, name="plots")
