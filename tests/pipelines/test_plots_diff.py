"""``loom plots diff``: one self-contained HTML page, a chart per plots file, a line per
revision; checked by parsing the page (its SVG geometry and its values table)."""

from __future__ import annotations

import itertools
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from loom.pipelines.plots_html import ticks
from tests.data.conftest import cli, commit, write, ws  # noqa: F401

PIPELINE = """\
stages:
  train:
    cmd: python train.py
    plots:
    - plots/loss.csv
    - plots/acc.json:
        x: epoch
        y: acc
"""


class Page(HTMLParser):
    """The charts of a page: per figure, its lines (points), legend and values table."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.figures: list[dict] = []
        self.tags: list[tuple[str, dict]] = []
        self._in: list[str] = []
        self._cell: list[str] | None = None
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "figure":
            self.figures.append(
                {"path": a["data-path"], "y": a["data-y"], "lines": {}, "legend": [], "rows": []}
            )
        fig = self.figures[-1] if self.figures else None
        if tag == "g" and "data-rev" in a:
            self._rev = a["data-rev"]
        if tag == "polyline" and fig is not None:
            pts = [tuple(map(float, p.split(","))) for p in a["points"].split()]
            fig["lines"][self._rev] = pts
        if tag == "li" and fig is not None:
            fig["legend"].append((a["data-rev"], a.get("class")))
        if tag == "tr" and fig is not None:
            fig["rows"].append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.figures:
            self.figures[-1]["rows"][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def figure(self, path: str, y: str | None = None) -> dict:
        return next(f for f in self.figures if f["path"] == path and (y is None or f["y"] == y))


def _draw(cli, *args: str) -> Page:  # noqa: F811
    r = cli("plots", "diff", *args, "-o", "out/plots.html")
    assert r.code == 0, r.err
    path = Path(r.out.strip())
    assert path == Path("out/plots.html").resolve()
    return Page(path.read_text(encoding="utf-8"))


def _loss(values: list[float]) -> str:
    return "step,loss\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values))


def _values(fig: dict) -> dict[str, list[str]]:
    """The values table as {column: [cells]} (first column: x)."""
    head, *rows = fig["rows"]
    return {name: [row[i] for row in rows] for i, name in enumerate(head)}


def test_one_chart_per_file_one_line_per_revision_with_the_right_values(ws, cli):  # noqa: F811
    write("loom.yaml", PIPELINE)
    write("plots/loss.csv", _loss([1.0, 0.7, 0.5]))
    write("plots/acc.json", json.dumps([{"epoch": 1, "acc": 0.5}, {"epoch": 2, "acc": 0.6}]))
    commit("one")
    write("plots/loss.csv", _loss([0.9, 0.5, 0.3, 0.2]))
    commit("two")
    write("plots/loss.csv", _loss([0.8, 0.4]))
    write(
        "plots/acc.json", json.dumps({"acc": [{"epoch": 1, "acc": 0.7}, {"epoch": 3, "acc": 0.9}]})
    )
    page = _draw(cli, "HEAD~1", "HEAD", "workspace")
    assert [(f["path"], f["y"]) for f in page.figures] == [
        ("plots/loss.csv", "loss"),
        ("plots/acc.json", "acc"),
    ]
    loss = page.figure("plots/loss.csv")
    assert list(loss["lines"]) == ["HEAD~1", "HEAD", "workspace"]
    assert [len(pts) for pts in loss["lines"].values()] == [3, 4, 2]
    assert [rev for rev, _ in loss["legend"]] == ["HEAD~1", "HEAD", "workspace"]
    assert _values(loss) == {
        "step": ["0", "1", "2", "3"],
        "HEAD~1": ["1", "0.7", "0.5", ""],
        "HEAD": ["0.9", "0.5", "0.3", "0.2"],
        "workspace": ["0.8", "0.4", "", ""],
    }
    # the geometry: a larger loss is drawn higher (smaller SVG y), a later step further right
    old, new = loss["lines"]["HEAD~1"], loss["lines"]["HEAD"]
    assert [p[0] for p in new] == sorted(p[0] for p in new)
    assert [p[1] for p in new] == sorted(p[1] for p in new)  # loss falls: y grows downwards
    assert all(o[1] < n[1] for o, n in zip(old, new, strict=False))  # HEAD~1's loss is higher
    assert old[1][0] == new[1][0] and old[2][1] == new[1][1]  # step 1 and loss 0.5 on both
    ys = [p[1] for p in new]  # 0.9, 0.5, 0.3, 0.2 on a linear scale: gaps 0.4 : 0.2 : 0.1
    assert (ys[1] - ys[0]) / (ys[2] - ys[1]) == pytest.approx(2, rel=1e-3)
    assert (ys[2] - ys[1]) / (ys[3] - ys[2]) == pytest.approx(2, rel=1e-3)
    acc = page.figure("plots/acc.json")
    assert _values(acc) == {
        "epoch": ["1", "2", "3"],
        "HEAD~1": ["0.5", "0.6", ""],
        "HEAD": ["0.5", "0.6", ""],
        "workspace": ["0.7", "", "0.9"],
    }
    labels = "".join(page.text)
    assert "epoch" in labels and "acc" in labels  # axis labels


def test_the_page_is_self_contained(ws, cli):  # noqa: F811
    write("loom.yaml", PIPELINE)
    write("plots/loss.csv", _loss([1.0, 0.5]))
    commit("one")
    page = _draw(cli)
    fetches = [(t, a) for t, a in page.tags if t in ("script", "link", "img", "iframe", "object")]
    assert fetches == []
    assert not [a for _, a in page.tags if "src" in a or "href" in a]
    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert csp and "default-src 'none'" in csp[0]["content"]


def test_defaults_head_and_workspace_and_one_rev_against_the_workspace(ws, cli):  # noqa: F811
    write("loom.yaml", PIPELINE)
    write("plots/loss.csv", _loss([3, 2]))
    commit("one")
    write("plots/loss.csv", _loss([2, 1]))
    commit("two")
    write("plots/loss.csv", _loss([1, 0]))
    assert list(_draw(cli).figure("plots/loss.csv")["lines"]) == ["HEAD", "workspace"]
    one = _draw(cli, "HEAD~1").figure("plots/loss.csv")
    assert list(one["lines"]) == ["HEAD~1", "workspace"]
    assert _values(one)["HEAD~1"] == ["3", "2"]


def test_a_file_missing_at_a_revision_is_in_the_legend_not_drawn(ws, cli):  # noqa: F811
    write("loom.yaml", PIPELINE)
    write("README", "x")
    commit("before the plots")
    write("plots/loss.csv", _loss([1, 0.5]))
    loss = _draw(cli).figure("plots/loss.csv")
    assert list(loss["lines"]) == ["workspace"]
    assert ("HEAD", "missing") in loss["legend"]
    acc = _draw(cli).figure("plots/acc.json")  # missing everywhere: said, not dropped
    assert acc["lines"] == {}
    assert "missing at every revision" in "".join(_draw(cli).text)


def test_x_is_step_else_the_first_column_else_the_row(ws, cli):  # noqa: F811
    write(
        "loom.yaml",
        "stages:\n  t:\n    cmd: x\n    plots:\n    - a.tsv\n    - b.csv\n    - c.yaml\n",
    )
    write("a.tsv", "epoch\ttrain\tval\n1\t0.9\t1.0\n2\t0.8\t0.95\n")
    write("b.csv", "loss\n0.3\n0.2\n0.1\n")
    write("c.yaml", "- {when: monday, score: 1}\n- {when: tuesday, score: 2}\n")
    commit("one")
    page = _draw(cli, "HEAD")
    assert [(f["path"], f["y"]) for f in page.figures] == [
        ("a.tsv", "train"),
        ("a.tsv", "val"),
        ("b.csv", "loss"),
        ("c.yaml", "score"),
    ]
    assert _values(page.figure("a.tsv", "val"))["epoch"] == ["1", "2"]
    assert _values(page.figure("b.csv"))["row"] == ["0", "1", "2"]
    assert _values(page.figure("c.yaml"))["row"] == ["0", "1"]  # text x: the row number


def test_no_plots_declared_is_an_error_and_writes_nothing(ws, cli):  # noqa: F811
    write("loom.yaml", "stages: {t: {cmd: x}}\n")
    commit("one")
    r = cli("plots", "diff", "-o", "p.html")
    assert r.code == 1 and "No plots files are declared" in r.err and "Hint:" in r.err
    assert not Path("p.html").exists()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[{]", "At HEAD, plots/acc.json:1: not valid JSON"),
        ('{"a": 1}', "At HEAD, the plots file plots/acc.json: it holds no list of records"),
    ],
)
def test_a_plots_file_that_does_not_parse_is_named(ws, cli, text, says):  # noqa: F811
    write("loom.yaml", PIPELINE)
    write("plots/acc.json", text)
    commit("one")
    r = cli("plots", "diff", "HEAD", "-o", "p.html")
    assert r.code == 1 and says in r.err and "Traceback" not in r.err
    r = cli("plots", "diff", "nope", "-o", "p.html")
    assert r.code == 1 and "'nope' is not a git revision" in r.err
    assert not Path("p.html").exists()


@pytest.mark.parametrize(("lo", "hi"), [(0.12, 0.97), (-3, 7), (5, 5), (1e-9, 3e-9), (0, 12345)])
def test_ticks_cover_the_range_in_round_even_steps(lo, hi):
    t = ticks(lo, hi)
    assert t[0] <= lo and t[-1] >= hi and 3 <= len(t) <= 12
    steps = {round(b - a, 15) for a, b in itertools.pairwise(t)}
    assert len({f"{s:.6g}" for s in steps}) == 1


def test_declared_y_columns_title_and_axis_labels(ws, cli):  # noqa: F811
    write(
        "loom.yaml",
        "stages:\n  t:\n    cmd: x\n    plots:\n    - a.tsv:\n        y: [val]\n"
        "        title: Validation\n        x_label: Epoch\n        y_label: Loss (val)\n"
        "plots:\n- b.json:\n    x: [not, a, column]\n",
    )
    write("a.tsv", "epoch\ttrain\tval\n1\t0.9\t1.0\n2\t0.8\t0.95\n")
    write("b.json", '[{"step": 1, "f1": 0.5}]')
    commit("one")
    page = _draw(cli, "HEAD")
    assert [(f["path"], f["y"]) for f in page.figures] == [("a.tsv", "val"), ("b.json", "f1")]
    text = "".join(page.text)
    assert "Validation" in text and "Epoch" in text and "Loss (val)" in text
    assert _values(page.figure("b.json"))["step"] == ["1"]  # a list is no x: step serves
