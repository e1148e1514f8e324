"""``loom plots diff``: the plots files of ``loom.yaml`` at several revisions, one chart per
file (and y column), one line per revision, as ``dvc plots diff``; drawn by ``plots_html``.

A plots file is CSV, TSV, or JSON/YAML holding a list of records (or a mapping
whose value is that list). x is the declared ``x``, else the ``step`` column,
else the first column (when there are two or more), else the row number; the
y columns are the declared ``y``, else every other numeric column.

    >>> plots_diff(ws.root, ["HEAD~1", "HEAD"], Path("loom_plots.html"))
    PosixPath('/…/loom_plots.html')
    >>> charts = collect(ws.root, ["HEAD~1", "HEAD"])
    >>> [(c.path, [s.rev for s in c.series]) for c in charts]
    [('plots/loss.csv', ['HEAD~1', 'HEAD'])]
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loom import atomic
from loom.errors import NotFoundError, ValidationError, from_oserror
from loom.pipelines.declared import Declared, declared
from loom.pipelines.errors import PipelineError
from loom.pipelines.revfiles import WORKSPACE, Rev, Revisions, opening
from loom.pipelines.template import plain
from loom.pipelines.yamlfile import read_values

ROW = "row"  # the x label when x is the row number
Records = list[dict[str, Any]]


@dataclass(frozen=True)
class Series:
    """One revision's line: points with numeric x and y (non-numbers left out)."""

    rev: str
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class Chart:
    path: str
    x: str
    y: str
    title: str
    series: list[Series]
    missing: list[str] = field(default_factory=list)  # revisions without this file or column
    x_label: str = ""  # the declared label, else the column's name
    y_label: str = ""

    @property
    def x_axis(self) -> str:
        return self.x_label or self.x

    @property
    def y_axis(self) -> str:
        return self.y_label or self.y


def revisions(revs: list[str]) -> list[str | None]:
    """DVC's defaults: none -> HEAD and the workspace; one -> it and the workspace; more ->
    those. ``workspace`` names the workspace."""
    if len(revs) < 2:
        revs = [*(revs or ["HEAD"]), WORKSPACE]
    return [None if r == WORKSPACE else r for r in dict.fromkeys(revs)]


def plots_diff(root: Path, revs: list[str], out: Path) -> Path:
    """Write the page comparing the plots at ``revs`` (see :func:`revisions`) to ``out``."""
    labels = [WORKSPACE if r is None else r for r in revisions(revs)]
    return write(collect(root, revs), labels, out)


def collect(root: Path, revs: list[str]) -> list[Chart]:
    """The charts of every plots file declared at any of ``revs`` (see :func:`revisions`)."""
    reader = Revisions(root)
    resolved = [reader.resolve(r) for r in revisions(revs)]
    decls = [declared(reader, r) for r in resolved]
    plots = _plots(decls)
    if not plots:
        where = " or ".join(r.where for r in resolved)
        raise NotFoundError(
            f"No plots files are declared in loom.yaml {where}; no page written.",
            hint="Declare a stage's plots: `plots: [plots/loss.csv]` "
            "(or `{plots/loss.csv: {x: step, y: loss}}`).",
        )
    tables = {r: _records_at(reader, r, list(plots)) for r in resolved}
    return [c for path, props in plots.items() for c in _charts(path, props, resolved, tables)]


def write(charts: list[Chart], revs: list[str], out: Path) -> Path:
    """Write the HTML page of ``charts`` to ``out`` (atomically; folders made); its path."""
    from loom.pipelines.plots_html import page

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(out, page(charts, revs))
    except OSError as exc:
        raise from_oserror(exc, "write the plots page") from None
    return out.resolve()


def _plots(decls: list[Declared]) -> dict[str, dict[str, Any]]:
    plots: dict[str, dict[str, Any]] = {}
    for d in decls:
        for path, props in d.plots.items():
            plots.setdefault(path, props)
    return plots


def _records_at(reader: Revisions, rev: Rev, paths: list[str]) -> dict[str, Records | None]:
    raw = reader.read(rev, paths)
    return {p: None if (data := raw[p]) is None else records(data, p, rev.where) for p in paths}


def records(data: bytes, path: str, where: str) -> Records:
    """The rows of a plots file; a file that does not parse is a ValidationError naming it."""
    suffix = path.rsplit(".", 1)[-1].lower()
    rows: Any
    if suffix in ("csv", "tsv"):
        try:
            text = data.decode("utf-8-sig")
            rows = list(
                csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == "tsv" else ",")
            )
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _bad(path, where, f"it is not valid {suffix.upper()} ({exc})") from None
    else:
        try:
            rows = plain(read_values(data, path))  # JSON or YAML, as loom repro reads them
        except PipelineError as exc:
            raise ValidationError(f"{opening(where)}, {exc.message}", hint=_HINT) from None
    if isinstance(rows, dict):  # {"loss": [...]}: DVC's JSON plots hold the list in one key
        rows = next((v for v in rows.values() if isinstance(v, list)), None)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise _bad(path, where, "it holds no list of records (rows of named values)")
    return rows


def _charts(
    path: str, props: dict[str, Any], revs: list[Rev], tables: dict[Rev, dict[str, Records | None]]
) -> list[Chart]:
    found = {r.label: tables[r][path] for r in revs}
    columns = list(dict.fromkeys(k for rows in found.values() for row in rows or [] for k in row))
    x = props.get("x") or ("step" if "step" in columns else columns[0] if len(columns) > 1 else ROW)
    if x != ROW and not _numeric_column(found, x):
        x = ROW  # dates or names: plot against the row number, in file order
    labels = (props.get("x_label", ""), props.get("y_label", ""))
    ys = _as_list(props.get("y")) or [c for c in columns if c != x and _numeric_column(found, c)]
    if not ys:  # missing everywhere, empty, or nothing numeric: said on the page, not dropped
        absent = [rev for rev, rows in found.items() if not rows]
        return [Chart(path, x, "", props.get("title") or path, [], absent, *labels)]
    charts = []
    for y in ys:
        series, missing = [], []
        for rev, rows in found.items():
            points = _points(rows or [], x, y)
            if rows is None or not any(y in row for row in rows):
                missing.append(rev)
            else:
                series.append(Series(rev, points))
        title = path if len(ys) == 1 else f"{path}: {y}"
        charts.append(Chart(path, x, y, props.get("title") or title, series, missing, *labels))
    return charts


def _points(rows: Records, x: str, y: str) -> list[tuple[float, float]]:
    out = []
    for i, row in enumerate(rows):
        xv = float(i) if x == ROW else _number(row.get(x))
        yv = _number(row.get(y))
        if xv is not None and yv is not None:
            out.append((xv, yv))
    return out


def _numeric_column(found: dict[str, Records | None], column: str) -> bool:
    values = [row.get(column) for rows in found.values() for row in rows or []]
    present = [v for v in values if v not in (None, "")]
    return bool(present) and all(_float(v) is not None for v in present)


def _number(v: Any) -> float | None:
    """``v`` as a finite float (a point to draw), else None (NaN, text, empty)."""
    f = _float(v)
    return f if f is not None and math.isfinite(f) else None


def _float(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):
        return None


def _as_list(v: Any) -> list[str]:
    if v is None:
        return []
    return [str(c) for c in v] if isinstance(v, list) else [str(v)]


_HINT = (
    "A plots file is CSV/TSV with a header row, or JSON/YAML holding a list of records, "
    'e.g. [{"step": 0, "loss": 0.9}, …].'
)


def _bad(path: str, where: str, why: str) -> ValidationError:
    return ValidationError(
        f"{opening(where)}, the plots file {path}: {why}.", hint=_HINT, path=path
    )
