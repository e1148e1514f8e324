"""``-j N``: independent stages at once, their output prefixed by stage name, whole lines only."""

from __future__ import annotations

import re
import time

from .conftest import PY, write

STAGE = """\
import sys, time
name = sys.argv[1]
time.sleep(1)
for i in range(300):
    print(f"{name} line {i} " + "x" * 200, flush=True)
open(f"out/{name}", "w").write(name)
"""


def _four(root) -> None:
    write(root / "stage.py", STAGE)
    (root / "out").mkdir()
    stages = "".join(
        f"  s{i}:\n    cmd: {PY} stage.py s{i}\n    deps: [stage.py]\n    outs: [out/s{i}]\n"
        for i in range(4)
    )
    write(root / "loom.yaml", "stages:\n" + stages)


def test_four_one_second_stages_run_at_once_with_whole_prefixed_lines(ws, cli) -> None:
    _four(ws.root)
    started = time.monotonic()
    r = cli("repro", "-j", "4")
    elapsed = time.monotonic() - started
    assert r.code == 0, r.err
    # one after the other they take over 4 s; at once about 1.2 s (generous for a busy machine)
    assert elapsed < 3.5, elapsed
    lines = [line for line in r.out.splitlines() if line.startswith("[")]
    assert len(lines) == 4 * 300
    pattern = re.compile(r"\[(s\d)\] (s\d) line (\d+) x{200}")
    seen: dict[str, list[int]] = {}
    for line in lines:
        m = pattern.fullmatch(line)
        assert m is not None and m[1] == m[2], line  # never two stages within one line
        seen.setdefault(m[1], []).append(int(m[3]))
    assert seen == {f"s{i}": list(range(300)) for i in range(4)}


def test_one_job_runs_them_in_turn_without_prefixes(ws, cli) -> None:
    _four(ws.root)
    write(ws.root / "stage.py", STAGE.replace("time.sleep(1)", "pass").replace("300", "2"))
    r = cli("repro")
    assert r.code == 0, r.err
    assert "s0 line 0 " + "x" * 200 in r.out.splitlines()
    assert not any(line.startswith("[s") for line in r.out.splitlines())
