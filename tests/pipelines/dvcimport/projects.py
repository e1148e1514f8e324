"""Real DVC projects, built with DVC itself: a project using most of dvc.yaml, and the
DVC tutorial's "get started" pipeline with small stand-in scripts."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

RICH_DVC_YAML = """\
# the pipeline of a test project (this comment must survive the import)
vars:
  - config.json
  - local_note: from-vars
stages:
  prepare:
    cmd: python src/prepare.py ${local_note}
    deps: [data/raw, src/prepare.py]
    params: [prepare.split]
    outs: [data/prepared]
  train:
    foreach: ${models}
    do:
      wdir: train
      cmd: python train.py ${item} ${extra.scale}
      deps: [train.py, ../data/prepared]
      params:
        - ../params.yaml:
          - train
        - ../config.json:
          - extra.scale
      outs:
        - model_${item}.json
      metrics:
        - metrics_${item}.json:
            cache: false
      plots:
        - loss_${item}.csv:
            cache: false
            x: step
            y: loss
  grid:
    matrix:
      size: [1, 2]
      tag: [a, b]
    cmd: python src/grid.py ${item.size} ${item.tag}
    deps: [src/grid.py]
    outs:
      - grid/${item.size}-${item.tag}.txt
"""

PREPARE = """\
import os, sys, yaml
split = yaml.safe_load(open("params.yaml"))["prepare"]["split"]
rows = []
for name in sorted(os.listdir("data/raw")):
    rows += open(os.path.join("data/raw", name)).read().split()
cut = int(len(rows) * split)
os.makedirs("data/prepared", exist_ok=True)
open("data/prepared/train.txt", "w").write("\\n".join(rows[:cut]) + "\\n")
open("data/prepared/test.txt", "w").write("\\n".join(rows[cut:]) + "\\n" + sys.argv[1] + "\\n")
"""

TRAIN = """\
import json, sys, yaml
model, scale = sys.argv[1], float(sys.argv[2])
p = yaml.safe_load(open("../params.yaml"))["train"]
words = open("../data/prepared/train.txt").read().split()
weight = round(len(words) * p["lr"] * scale + len(model), 6)
json.dump({"model": model, "weight": weight}, open(f"model_{model}.json", "w"))
json.dump({"acc": round(weight / (weight + p["epochs"]), 6)}, open(f"metrics_{model}.json", "w"))
with open(f"loss_{model}.csv", "w") as f:
    f.write("step,loss\\n")
    for step in range(p["epochs"]):
        f.write(f"{step},{round(1 / (step + 1 + weight), 6)}\\n")
"""

GRID = """\
import os, sys
os.makedirs("grid", exist_ok=True)
open(f"grid/{sys.argv[1]}-{sys.argv[2]}.txt", "w").write(sys.argv[2] * int(sys.argv[1]))
"""


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def init_repo(root: Path, dvc: Callable[..., str], git: Callable[..., str]) -> None:
    root.mkdir(parents=True)
    git("init", "-q", "-b", "main")
    dvc("init", "-q")
    dvc("config", "core.analytics", "false")
    dvc("config", "core.check_update", "false")


def build_rich(root: Path, dvc: Callable[..., str], git: Callable[..., str]) -> None:
    """foreach, matrix, vars (a file and a mapping), wdir, two params files, metrics and
    plots with flags, ``dvc add`` of a folder and a file, a local remote, ``dvc push``."""
    init_repo(root, dvc, git)
    write(
        root,
        {
            "params.yaml": "prepare:\n  split: 0.5\ntrain:\n  lr: 0.1\n  epochs: 3\n"
            "models: [small, big]\n",
            "config.json": json.dumps({"extra": {"scale": 2}}),
            "data/raw/a.txt": "one two three four\n",
            "data/raw/b.txt": "five six seven eight nine ten\n",
            "data/labels.csv": "id,label\n1,cat\n2,dog\n",
            "src/prepare.py": PREPARE,
            "train/train.py": TRAIN,
            "src/grid.py": GRID,
            "dvc.yaml": RICH_DVC_YAML,
        },
    )
    (root / "data/raw/run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "data/raw/run.sh").chmod(0o755)  # DVC drops the exec bit; Loom keeps it
    dvc("add", "-q", "data/raw", "data/labels.csv")
    dvc("repro", "-q")
    dvc("remote", "add", "-d", "storage", "../dvc-storage")
    dvc("push", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "DVC project")


GET_STARTED_DVC_YAML = """\
stages:
  prepare:
    cmd: python src/prepare.py data/data.xml
    deps:
    - data/data.xml
    - src/prepare.py
    params:
    - prepare.seed
    - prepare.split
    outs:
    - data/prepared
  featurize:
    cmd: python src/featurization.py data/prepared data/features
    deps:
    - data/prepared
    - src/featurization.py
    params:
    - featurize.max_features
    - featurize.ngrams
    outs:
    - data/features
  train:
    cmd: python src/train.py data/features model.pkl
    deps:
    - data/features
    - src/train.py
    params:
    - train.min_split
    - train.n_est
    - train.seed
    outs:
    - model.pkl
  evaluate:
    cmd: python src/evaluate.py model.pkl data/features
    deps:
    - data/features
    - model.pkl
    - src/evaluate.py
    outs:
    - eval
metrics:
- eval/metrics.json
plots:
- ROC:
    template: simple
    x: fpr
    y:
      eval/plots/sklearn/roc/train.json: tpr
      eval/plots/sklearn/roc/test.json: tpr
- eval/importance.png
"""

GET_STARTED_PARAMS = """\
prepare:
  split: 0.20
  seed: 20170428

featurize:
  max_features: 100
  ngrams: 1

train:
  seed: 20170428
  n_est: 50
  min_split: 0.01
"""

# Small stand-ins for the tutorial's scripts: same arguments, same files, no sklearn.
GS_PREPARE = """\
import os, random, sys, yaml
p = yaml.safe_load(open("params.yaml"))["prepare"]
rows = [l.strip() for l in open(sys.argv[1]) if l.strip().startswith("<row")]
random.seed(p["seed"])
os.makedirs("data/prepared", exist_ok=True)
with open("data/prepared/train.tsv", "w") as tr, open("data/prepared/test.tsv", "w") as te:
    for row in rows:
        (te if random.random() < p["split"] else tr).write(row + "\\n")
"""

GS_FEATURIZE = """\
import collections, json, os, sys, yaml
p = yaml.safe_load(open("params.yaml"))["featurize"]
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for part in ("train", "test"):
    words = open(f"{src}/{part}.tsv").read().split()
    grams = [" ".join(words[i:i + p["ngrams"]]) for i in range(len(words))]
    top = collections.Counter(grams).most_common(p["max_features"])
    json.dump(top, open(f"{dst}/{part}.json", "w"))
"""

GS_TRAIN = """\
import json, pickle, random, sys, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
features = json.load(open(sys.argv[1] + "/train.json"))
random.seed(p["seed"])
trees = [sum(c for _, c in random.sample(features, min(len(features), 3)))
         for _ in range(p["n_est"])]
pickle.dump({"trees": trees, "min_split": p["min_split"]}, open(sys.argv[2], "wb"))
"""

GS_EVALUATE = """\
import json, os, pickle, sys
model = pickle.load(open(sys.argv[1], "rb"))
test = json.load(open(sys.argv[2] + "/test.json"))
score = sum(model["trees"]) / (len(model["trees"]) or 1)
total = sum(c for _, c in test) or 1
os.makedirs("eval/plots/sklearn/roc", exist_ok=True)
json.dump({"avg_prec": {"test": round(score / (score + total), 6)},
           "roc_auc": {"test": round(total / (score + total), 6)}},
          open("eval/metrics.json", "w"), indent=2)
for part in ("train", "test"):
    roc = [{"fpr": i / 4, "tpr": min(1.0, i / 4 + score / 1000)} for i in range(5)]
    json.dump({"roc": roc}, open(f"eval/plots/sklearn/roc/{part}.json", "w"))
open("eval/importance.png", "wb").write(bytes(range(256)))
"""


def build_get_started(root: Path, dvc: Callable[..., str], git: Callable[..., str]) -> None:
    """DVC's tutorial pipeline (example-get-started): prepare -> featurize -> train ->
    evaluate, its dvc.yaml and params.yaml as published, data/data.xml added with dvc."""
    init_repo(root, dvc, git)
    rows = "\n".join(
        f'  <row Id="{i}" Body="post {i} about {"python" if i % 3 else "r"} tag{i % 7}" />'
        for i in range(60)
    )
    write(
        root,
        {
            "data/data.xml": f"<?xml version='1.0'?>\n<posts>\n{rows}\n</posts>\n",
            "params.yaml": GET_STARTED_PARAMS,
            "dvc.yaml": GET_STARTED_DVC_YAML,
            "src/prepare.py": GS_PREPARE,
            "src/featurization.py": GS_FEATURIZE,
            "src/train.py": GS_TRAIN,
            "src/evaluate.py": GS_EVALUATE,
        },
    )
    dvc("add", "-q", "data/data.xml")
    dvc("repro", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "get started")


def dedent(text: str) -> str:
    return textwrap.dedent(text)
