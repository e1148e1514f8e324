"""A no-op ``loom repro`` answered from what the last one read (``loom.pipelines.noop``):
the same answer as a full plan, and any change to what the plan reads brings the full plan
back — a file's bytes, a folder's listing, loom.yaml, loom.lock, params, an out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from loom.pipelines.noop import MEMO
from tests.data.conftest import loom_run

from .conftest import write

# the console script's path, reporting whether the pipeline's modules were loaded at all
PROBE = (
    "import atexit, sys; from loom.cli.fast import main; sys.argv = ['loom', *sys.argv[1:]]\n"
    "atexit.register(lambda: print('planned' if 'loom.pipelines.spec' in sys.modules "
    "else 'remembered', file=sys.stderr))\nmain()"
)


def _repro(root, *args: str) -> tuple[dict, str]:
    r = subprocess.run(
        [sys.executable, "-c", PROBE, "repro", "--json", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), r.stderr.strip().splitlines()[-1]


def _acted(result: dict) -> set[tuple[str, str]]:
    return {(s["stage"], s["action"]) for s in result["stages"] if s["action"] != "skipped"}


@pytest.fixture
def ran_once(project):
    root = project.root
    for _ in range(2):  # the second lists data/processed as the first one wrote it
        assert loom_run("repro", cwd=root).returncode == 0
    first, how = _repro(root)
    assert how == "planned" and not _acted(first)
    assert (root / ".loom/tmp" / MEMO).is_file()
    return project


def test_a_second_no_op_is_answered_from_memory_with_the_same_answer(ran_once) -> None:
    root = ran_once.root
    planned = loom_run("repro", "--json", cwd=root)
    remembered, how = _repro(root)
    assert how == "remembered"
    assert remembered == json.loads(planned.stdout)
    r = subprocess.run(
        [sys.executable, "-c", PROBE, "repro"], cwd=root, capture_output=True, text=True
    )
    assert r.stdout == "Every stage is up to date.\n"
    _, how = _repro(root, "train")  # a target, --force and the like always plan
    assert how == "planned"


def _add_raw(root) -> None:
    write(root / "data/raw/new.txt", "a new file in a folder dep")


def _same_size_edit(root) -> None:
    path = root / "data/raw" / sorted(os.listdir(root / "data/raw"))[0]
    data = path.read_bytes()
    path.write_bytes(data[::-1] if data[::-1] != data else data.upper())


def _param(root) -> None:
    p = root / "params.yaml"
    p.write_text(p.read_text().replace("lr: 0.01", "lr: 0.02"))


def _script(root) -> None:
    p = root / "src/train.py"
    p.write_text(p.read_text() + "\n# edited\n")


def _cmd(root) -> None:
    p = root / "loom.yaml"
    p.write_text(p.read_text().replace("src/train.py\n", "src/train.py --again\n", 1))


def _lock(root) -> None:
    p = root / "loom.lock"
    p.write_text(p.read_text().replace("cmd:", "cmd: '# edited' #", 1))


def _out_gone(root) -> None:
    (root / "models/model").unlink()


@pytest.mark.parametrize(
    ("change", "stage"),
    [
        (_add_raw, "prepare"),
        (_same_size_edit, "prepare"),
        (_param, "train"),
        (_script, "train"),
        (_cmd, "train"),
        (_lock, "prepare"),
        (_out_gone, "train"),
    ],
)
def test_any_change_to_what_the_plan_read_plans_again(ran_once, change, stage) -> None:
    root = ran_once.root
    change(root)
    result, how = _repro(root)
    assert how == "planned"
    assert stage in {name for name, _ in _acted(result)}, result


def test_nothing_is_remembered_from_a_file_too_new_to_trust(ran_once) -> None:
    root = ran_once.root
    memo = root / ".loom/tmp" / MEMO
    memo.unlink()
    later = time.time_ns() + 60 * 10**9  # as if written within the racy window, and then some
    os.utime(root / "params.yaml", ns=(later, later))
    _, how = _repro(root)
    assert how == "planned" and not memo.exists()


def test_gc_keeps_the_memos(ran_once) -> None:
    root = ran_once.root
    stray = root / ".loom/tmp/stray.loomtmp"  # what gc is for: a killed process's temp file
    stray.write_text("x")
    r = loom_run("gc", "--workspace", "--grace", "0", cwd=root)
    assert r.returncode == 0, r.stderr
    assert not stray.exists()
    _, how = _repro(root)
    assert how == "remembered"
