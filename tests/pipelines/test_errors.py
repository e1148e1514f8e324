"""Each pipeline error is refused before any command runs, with the file and line, exit 1,
a hint and no traceback."""

from __future__ import annotations

import pytest

from .conftest import PY, git, ran, write

# the first stage writes runs.log: if it exists afterwards, something ran
FIRST = f"  first:\n    cmd: {PY} -c \"open('runs.log', 'a').write('first')\"\n"


def _refused(cli, root, says: str, line: int | None = None, *args: str) -> str:
    r = cli("repro", *args)
    assert r.code == 1, (r.out, r.err)
    assert says in r.err, r.err
    assert "Hint:" in r.err and "Traceback" not in r.err
    if line is not None:
        assert f"loom.yaml:{line}: " in r.err, r.err
    assert ran(root) == [] and not (root / "loom.lock").exists()
    return r.err


@pytest.mark.parametrize(
    "stages, line, says",
    [
        (
            "  a:\n    cmd: x\n    deps: [c.txt]\n    outs: [a.txt]\n"
            "  b:\n    cmd: x\n    deps: [a.txt]\n    outs: [b.txt]\n"
            "  c:\n    cmd: x\n    deps: [b.txt]\n    outs: [c.txt]\n",
            4,
            "cycle: a -> b -> c -> a",
        ),
        (
            "  a:\n    cmd: x\n    outs: [same.txt]\n  b:\n    cmd: x\n    outs: [same.txt]\n",
            9,
            "same.txt is already an out of stage 'a' (loom.yaml:6)",
        ),
        (
            "  a:\n    cmd: x\n    outs: [data]\n  b:\n    cmd: x\n    outs:\n    - data/inner\n",
            10,
            "the out data/inner is inside data, an out of stage 'a'",
        ),
        (
            "  a:\n    cmd: x\n    deps:\n    - data/nowhere\n",
            7,
            "the dep data/nowhere does not exist, and no stage makes it",
        ),
        (
            "  a:\n    cmd: x\n    params:\n    - train.lr\n    - train.lrr\n",
            8,
            "the param 'train.lrr' is not in params.yaml",
        ),
        (
            "  a:\n    cmd: x\n    deps: [a.txt]\n    outs: [a.txt]\n",
            6,
            "reads a.txt, which it writes itself",
        ),
        ("  a:\n    cmd: echo ${train.nope}\n", 5, "'nope' is not defined"),
        ("  a:\n    cmd: x\n    outs: [../outside]\n", 6, "not inside the workspace"),
    ],
    ids=["cycle", "same-out", "nested-outs", "missing-dep", "unknown-param", "self", "var", "out"],
)
def test_refused_before_anything_runs(ws, cli, stages: str, line: int, says: str) -> None:
    write("params.yaml", "train:\n  lr: 0.1\n")
    write("loom.yaml", "stages:\n" + FIRST + stages)
    _refused(cli, ws.root, says, line)


def test_a_stage_that_does_not_exist(ws, cli) -> None:
    write("loom.yaml", "stages:\n" + FIRST)
    err = _refused(cli, ws.root, "No stage named 'nope'", None, "nope")
    assert "Stages: first" in err


def test_no_loom_yaml(ws, cli) -> None:
    _refused(cli, ws.root, "There is no loom.yaml", None)


def test_a_bad_lock_file_is_named(ws, cli) -> None:
    write("loom.yaml", "stages:\n" + FIRST)
    write("loom.lock", "schema: loom-lock/1\nstages: [\n")
    err = _refused_keep_lock(cli, ws.root)
    assert "loom.lock:" in err and "git checkout -- loom.lock" in err


def _refused_keep_lock(cli, root) -> str:
    r = cli("repro")
    assert r.code == 1 and "Traceback" not in r.err and ran(root) == []
    return r.err


def test_a_dep_made_by_a_stage_outside_the_run(ws, cli) -> None:
    write(
        "loom.yaml",
        "stages:\n" + FIRST + f"  make:\n    cmd: {PY} -c \"open('made', 'w').write('x')\"\n"
        "    outs: [made]\n"
        f"  use:\n    cmd: {PY} -c \"open('used', 'w').write('x')\"\n"
        "    deps: [made]\n    outs: [used]\n",
    )
    err = _refused(cli, ws.root, "stage 'make' makes it", 9, "use", "--downstream")
    assert "loom repro make" in err


def test_dag_names_the_cycle_too(ws, cli) -> None:
    write("loom.yaml", "stages:\n  a:\n    cmd: x\n    deps: [a.txt]\n    outs: [a.txt]\n")
    r = cli("dag")
    assert r.code == 1 and "loom.yaml:4: stage 'a' reads a.txt" in r.err


def test_an_out_tracked_by_loom_add_or_git_is_refused(ws, cli) -> None:
    write("loom.yaml", "stages:\n" + FIRST + f"  a:\n    cmd: {PY} -c pass\n    outs: [data]\n")
    write("data/x.csv", "1")
    assert cli("add", "data").code == 0
    err = _refused(cli, ws.root, "the out data is tracked with `loom add` (data.loom)", 6)
    assert (ws.root / "data/x.csv").read_text() == "1"  # not cleared

    (ws.root / "data.loom").unlink()
    (ws.root / ".gitignore").unlink()
    git("add", "data/x.csv")
    err = _refused(cli, ws.root, "the out data is tracked by git (data/x.csv)", 6)
    assert "git rm -r --cached data" in err
    assert (ws.root / "data/x.csv").read_text() == "1"
