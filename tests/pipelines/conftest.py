"""Pipelines run real stages (small python scripts) in a real git repository with a workspace.

Every script appends its stage's name to ``runs.log``, so a test can prove which
commands ran — and that none did.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from tests.data.conftest import cli, commit, git, make_dataset, write, ws  # noqa: F401
from tests.tracking.conftest import _isolated, pg_store_uri  # noqa: F401

PY = shlex.quote(sys.executable)

PARAMS = """\
prepare:
  split: 0.2
train:
  lr: 0.01
  epochs: 3
"""

PREPARE = """\
import os, sys
open("runs.log", "a").write("prepare\\n")
os.makedirs("data/processed", exist_ok=True)
for name in sorted(os.listdir("data/raw")):
    text = open(os.path.join("data/raw", name)).read()
    open(os.path.join("data/processed", name), "w").write(text.upper())
print("prepared", len(os.listdir("data/raw")))
"""

TRAIN = """\
import json, os, yaml
open("runs.log", "a").write("train\\n")
p = yaml.safe_load(open("params.yaml"))["train"]
os.makedirs("models", exist_ok=True)
n = len(os.listdir("data/processed"))
open("models/model", "w").write(f"model lr={p['lr']} files={n}\\n")
metrics = {"loss": round(1 - p["lr"], 6), "eval": {"acc": 0.5 + p["lr"]}}
json.dump(metrics, open("metrics.json", "w"))
print("trained with lr", p["lr"])
"""

EVALUATE = """\
import json, os, sys
open("runs.log", "a").write("evaluate " + sys.argv[1] + "\\n")
os.makedirs("eval", exist_ok=True)
model = open("models/model").read()
json.dump({"score": len(model) + len(sys.argv[1])}, open(f"eval/{sys.argv[1]}.json", "w"))
"""

LOOM_YAML = f"""\
vars: [params.yaml]
stages:
  prepare:
    cmd: {PY} src/prepare.py
    deps: [data/raw, src/prepare.py]
    params: [prepare.split]
    outs: [data/processed]
  train:
    cmd: {PY} src/train.py
    deps: [data/processed, src/train.py]
    params: [train]
    outs: [models/model]
    metrics: [metrics.json]
  evaluate:
    foreach: [val, test]
    do:
      cmd: {PY} src/evaluate.py ${{item}}
      deps: [models/model]
      metrics: [eval/${{item}}.json]
"""


def ran(root: Path) -> list[str]:
    """The stages whose command ran since the log was last cleared, in order."""
    log = root / "runs.log"
    return log.read_text().splitlines() if log.exists() else []


def clear_log(root: Path) -> None:
    (root / "runs.log").unlink(missing_ok=True)


@pytest.fixture
def project(ws):  # noqa: F811
    """The issue's pipeline (prepare → train → evaluate@val/test), committed, not run yet."""
    root = ws.root
    make_dataset(root / "data/raw", n=5)
    write(root / "params.yaml", PARAMS)
    write(root / "src/prepare.py", PREPARE)
    write(root / "src/train.py", TRAIN)
    write(root / "src/evaluate.py", EVALUATE)
    write(root / "loom.yaml", LOOM_YAML)
    write(root / ".gitignore", "runs.log\n")
    commit("pipeline")
    return ws


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
