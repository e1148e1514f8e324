"""One self-contained HTML page of line charts, drawn as inline SVG (no script, no network).

The page must open on a machine without internet access, so nothing is
fetched: no chart library, no web font; a Content-Security-Policy forbids
any load. Each chart is an ``<figure>`` with an SVG (grid, axes with labels,
one ``<polyline>`` per revision), a legend, and the values as a table.

    >>> chart = Chart("loss.csv", "step", "loss", "loss.csv", [Series("HEAD", [(0, 1.0)])])
    >>> page([chart], ["HEAD"])[:15]
    '<!doctype html>'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from loom.pipelines.plots import Chart, Series

Scale = Callable[[float], float]

W, H = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 14, 50
# Okabe-Ito: told apart by people with any common colour-vision deficiency
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
MARKERS_UP_TO = 60  # points per line that get a dot (with a tooltip) each
TABLE_ROWS = 1000  # rows of the values table; a longer file says how many were left out

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } figure { margin: 0 0 32px; max-width: 760px; }
figcaption { font-weight: 600; margin-bottom: 4px; } svg { width: 100%; height: auto; }
svg text { font-size: 11px; fill: #333; } svg .label { font-size: 12px; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px;
  margin: 4px 0; }
.swatch { display: inline-block; width: 18px; height: 3px; vertical-align: middle;
  margin-right: 6px; } .missing { color: #888; font-style: italic; }
table { border-collapse: collapse; font-size: 12px; } td, th { padding: 2px 8px;
  text-align: right; border-bottom: 1px solid #eee; } .note { color: #888; }
"""


def page(charts: list[Chart], revs: list[str]) -> str:
    """The whole HTML document: one figure per chart, a colour per revision."""
    colour = {rev: COLOURS[i % len(COLOURS)] for i, rev in enumerate(revs)}
    title = "Loom plots: " + " vs ".join(revs)
    body = "\n".join(_figure(c, colour) for c in charts) or '<p class="note">No plots.</p>'
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _figure(chart: Chart, colour: dict[str, str]) -> str:
    parts = [
        f'<figure class="chart" data-path="{escape(chart.path)}" data-y="{escape(chart.y)}">',
        f"<figcaption>{escape(chart.title)}</figcaption>",
    ]
    drawn = [s for s in chart.series if s.points]
    if drawn:
        parts.append(_svg(chart, drawn, colour))
    else:
        why = "missing at every revision" if not chart.series else "no numeric values to plot"
        parts.append(f'<p class="note">{escape(chart.path)}: {why}.</p>')
    parts.append(_legend(chart, colour))
    if drawn:
        parts.append(_table(chart, drawn))
    parts.append("</figure>")
    return "\n".join(parts)


def _svg(chart: Chart, drawn: list[Series], colour: dict[str, str]) -> str:
    xs = [x for s in drawn for x, _ in s.points]
    ys = [y for s in drawn for _, y in s.points]
    xt, yt = ticks(min(xs), max(xs)), ticks(min(ys), max(ys))
    sx = _scale(xt[0], xt[-1], LEFT, W - RIGHT)
    sy = _scale(yt[0], yt[-1], H - BOTTOM, TOP)
    out = [
        f'<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
        f'aria-label="{escape(chart.title)}" font-family="sans-serif" font-size="11">'
    ]
    bottom, right = H - BOTTOM, W - RIGHT
    for v in xt:
        px = sx(v)
        out.append(_seg("grid", "#e5e5e5", px, TOP, px, bottom))
        out.append(f'<text x="{px:.2f}" y="{bottom + 16}" text-anchor="middle">{_fmt(v)}</text>')
    for v in yt:
        py = sy(v)
        out.append(_seg("grid", "#e5e5e5", LEFT, py, right, py))
        out.append(f'<text x="{LEFT - 6}" y="{py + 4:.2f}" text-anchor="end">{_fmt(v)}</text>')
    out.append(_seg("axis", "#555", LEFT, bottom, right, bottom))
    out.append(_seg("axis", "#555", LEFT, TOP, LEFT, bottom))
    out.append(
        f'<text class="label x-label" x="{(LEFT + W - RIGHT) / 2}" y="{H - 12}" '
        f'text-anchor="middle">{escape(chart.x_axis)}</text>'
    )
    mid = (TOP + H - BOTTOM) / 2
    out.append(
        f'<text class="label y-label" x="16" y="{mid}" text-anchor="middle" '
        f'transform="rotate(-90 16 {mid})">{escape(chart.y_axis)}</text>'
    )
    for s in drawn:
        out.append(_line(s, colour.get(s.rev, COLOURS[-1]), sx, sy))
    out.append("</svg>")
    return "\n".join(out)


def _seg(cls: str, stroke: str, x1: float, y1: float, x2: float, y2: float) -> str:
    ends = f'x1="{x1:.2f}" y1="{y1:.2f}" x2="{x2:.2f}" y2="{y2:.2f}"'
    return f'<line class="{cls}" stroke="{stroke}" {ends}/>'


def _line(s: Series, stroke: str, sx: Scale, sy: Scale) -> str:
    rev = escape(s.rev)
    points = " ".join(f"{sx(x):.2f},{sy(y):.2f}" for x, y in s.points)
    parts = [
        f'<g class="series" data-rev="{rev}">',
        f'<polyline fill="none" stroke="{stroke}" stroke-width="2" points="{points}">'
        f"<title>{rev}</title></polyline>",
    ]
    if len(s.points) <= MARKERS_UP_TO:
        for x, y in s.points:
            parts.append(
                f'<circle cx="{sx(x):.2f}" cy="{sy(y):.2f}" r="3" fill="{stroke}">'
                f"<title>{rev}: {_fmt(x)}, {_fmt(y)}</title></circle>"
            )
    parts.append("</g>")
    return "\n".join(parts)


def _legend(chart: Chart, colour: dict[str, str]) -> str:
    items = [
        f'<li data-rev="{escape(s.rev)}"><span class="swatch" '
        f'style="background:{colour.get(s.rev, COLOURS[-1])}"></span>{escape(s.rev)}</li>'
        for s in chart.series
    ]
    items += [
        f'<li class="missing" data-rev="{escape(r)}">{escape(r)}: missing</li>'
        for r in chart.missing
    ]
    return f'<ul class="legend">{"".join(items)}</ul>'


def _table(chart: Chart, drawn: list[Series]) -> str:
    """The values behind the lines, one row per x, one column per revision."""
    by_rev = [{x: y for x, y in s.points} for s in drawn]
    xs = sorted({x for s in drawn for x, _ in s.points})
    head = "".join(f"<th>{escape(s.rev)}</th>" for s in drawn)
    rows = [f"<tr><th>{escape(chart.x)}</th>{head}</tr>"]
    for x in xs[:TABLE_ROWS]:
        cells = "".join(f"<td>{_fmt(v[x]) if x in v else ''}</td>" for v in by_rev)
        rows.append(f"<tr><th>{_fmt(x)}</th>{cells}</tr>")
    more = len(xs) - TABLE_ROWS
    note = f'<p class="note">{more} more rows left out.</p>' if more > 0 else ""
    return f"<details><summary>Values</summary><table>{''.join(rows)}</table>{note}</details>"


def ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``lo``..``hi`` (about ``count`` steps of 1, 2, 2.5 or 5
    times a power of ten); the first and last are the axis ends.

    >>> ticks(0.12, 0.97)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    return [round(i * step, 12) for i in range(first, last + 1)]


def _scale(lo: float, hi: float, out_lo: float, out_hi: float) -> Scale:
    span = hi - lo
    return lambda v: out_lo + (v - lo) / span * (out_hi - out_lo)


def _fmt(v: float) -> str:
    return f"{v:.6g}"
