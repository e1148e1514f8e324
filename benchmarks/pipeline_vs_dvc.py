"""Pipelines: ``loom repro`` vs ``dvc repro`` side by side, on the same pipeline file.

DVC is installed into a venv of its own under benchmarks/.work/; both tools run
one interleaved run and the table goes into docs/benchmarks.md (section
``pipeline_vs_dvc``). The pipeline: three stages whose deps hold 20,000 small
files (``data/raw``, added with each tool's ``add``), then four independent
1-second stages for ``-j 4``. The same YAML is written as loom.yaml and dvc.yaml.

    python benchmarks/pipeline_vs_dvc.py            # 3 repetitions
    python benchmarks/pipeline_vs_dvc.py --quick    # 1 repetition, 5,000 files
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as c
from _workspace import make_small_files

DVC_REQS = ["dvc==3.67.1", "dvc-s3"]  # the same venv as data_vs_dvc.py
PIPELINE = """\
stages:
  prepare:
    cmd: python src/prepare.py
    deps: [data/raw, src/prepare.py]
    params: [prepare.limit]
    outs: [data/prepared.txt]
  train:
    cmd: python src/train.py
    deps: [data/prepared.txt, src/train.py]
    params: [train.lr]
    outs: [model.txt]
    metrics: [{metrics.json: {cache: false}}]
  evaluate:
    cmd: python src/evaluate.py
    deps: [model.txt, data/prepared.txt, src/evaluate.py]
    metrics: [{eval.json: {cache: false}}]
"""
SCRIPTS = {
    "src/prepare.py": (
        "import os\n"
        "names = sorted(os.listdir('data/raw'))\n"
        "open('data/prepared.txt', 'w').write('\\n'.join(names[:1000]))\n"
    ),
    "src/train.py": (
        "import json\n"
        "rows = open('data/prepared.txt').read().split()\n"
        "open('model.txt', 'w').write(str(len(rows)))\n"
        "json.dump({'loss': 1 / (1 + len(rows))}, open('metrics.json', 'w'))\n"
    ),
    "src/evaluate.py": (
        "import json\n"
        "json.dump({'acc': int(open('model.txt').read()) / 1000}, open('eval.json', 'w'))\n"
    ),
}
PARALLEL = "stages:\n" + "".join(
    f"  s{i}:\n"
    f"    cmd: python -c \"import time; time.sleep(1); open('o{i}.txt', 'w').write('x')\"\n"
    f"    outs: [o{i}.txt]\n"
    for i in range(4)
)


class Tool:
    def __init__(self, name: str, bin_dir: Path) -> None:
        self.name = name
        self.exe = bin_dir / ("loom" if name == "loom" else "dvc")
        self.env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
        if name == "loom":
            self.env["LOOM_CAPTURE_ENV"] = "1"  # what a user gets: the default
        else:  # as in data_vs_dvc.py: no analytics daemon left running into Loom's turn
            self.env["DVC_NO_ANALYTICS"] = "1"

    def cmd(self, *args: str) -> list[str]:
        return [str(self.exe), *args]

    @property
    def pipeline_file(self) -> str:
        return "loom.yaml" if self.name == "loom" else "dvc.yaml"


def project(tool: Tool, base: Path, files: int) -> Path:
    """A git repo with data/raw (``files`` small files) added by the tool, scripts, params."""
    repo = base / f"{tool.name}-project"
    repo.mkdir(parents=True)
    c.must(["git", "init", "-q", "-b", "main"], cwd=repo)
    c.must(tool.cmd("init", *(["-q"] if tool.name == "dvc" else [])), cwd=repo, env=tool.env)
    make_small_files(repo / "data" / "raw", files)
    c.must(tool.cmd("add", "data/raw"), cwd=repo, env=tool.env)
    for rel, text in SCRIPTS.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    (repo / "params.yaml").write_text("prepare:\n  limit: 1000\ntrain:\n  lr: 0.01\n")
    (repo / tool.pipeline_file).write_text(PIPELINE)
    git = ["git", "-c", "user.email=b@e", "-c", "user.name=bench"]
    c.must([*git, "add", "-A"], cwd=repo)
    c.must([*git, "commit", "-qm", "pipeline"], cwd=repo)
    return repo


def by_hand(repo: Path, env: dict[str, str]) -> c.Outcome:
    """The three commands run one after the other, as a user would without a tool."""
    script = " && ".join(f"python {s}" for s in SCRIPTS)
    return c.run_timed(["bash", "-c", script], cwd=repo, env=env)


def one_round(tool: Tool, rep: int, args, rows: dict[str, c.Row], base: Path) -> None:
    side = "loom" if tool.name == "loom" else "peer"
    work = base / f"{tool.name}-{rep}"
    repo = project(tool, work, args.files)
    hand = by_hand(repo, tool.env)
    for out in ("data/prepared.txt", "model.txt", "metrics.json", "eval.json"):
        (repo / out).unlink(missing_ok=True)
    first = c.run_timed(tool.cmd("repro"), cwd=repo, env=tool.env)
    overhead = c.Outcome(first.seconds - hand.seconds, extra={"first": first.seconds})
    getattr(rows["overhead"], side).append(overhead if first.ok and hand.ok else first)
    c.run_timed(tool.cmd("repro"), cwd=repo, env=tool.env)  # warm the caches once
    noops = [c.run_timed(tool.cmd("repro"), cwd=repo, env=tool.env) for _ in range(5)]
    bad = next((o for o in noops if not o.ok), None)
    getattr(rows["noop"], side).append(
        bad or c.Outcome(statistics.median(o.seconds for o in noops if o.seconds))
    )
    par = work / "parallel"
    par.mkdir()
    c.must(["git", "init", "-q", "-b", "main"], cwd=par)
    c.must(tool.cmd("init", *(["-q"] if tool.name == "dvc" else [])), cwd=par, env=tool.env)
    (par / tool.pipeline_file).write_text(PARALLEL)
    jobs = ["-j", "4"] if tool.name == "loom" else []  # dvc repro runs stages one by one
    getattr(rows["parallel"], side).append(
        c.run_timed(tool.cmd("repro", *jobs), cwd=par, env=tool.env)
    )
    c.log(
        f"  {tool.name}: by hand {c.fmt_s(hand.seconds or 0)}, first repro "
        f"{c.fmt_s(first.seconds or 0)}, no-op {rows['noop'].cell(side)}, "
        f"4 x 1 s stages {rows['parallel'].cell(side)}"
    )


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1 repetition, 5,000 files")
    p.add_argument("--reps", type=int, help="repetitions (default 3, quick 1)")
    p.add_argument("--doc", action=argparse.BooleanOptionalAction, help="write the doc")
    args = p.parse_args()
    args.reps = args.reps or (1 if args.quick else 3)
    args.files = 5_000 if args.quick else 20_000
    args.doc = (not args.quick) if args.doc is None else args.doc
    return args


def main() -> int:
    args = parse_args()
    tools = [Tool("loom", c.LOOM_BIN.parent), Tool("dvc", c.ensure_venv("dvc-venv", DVC_REQS))]
    rows = {
        "noop": c.Row(f"no-op repro, 3 stages, deps of {args.files:,} files", 5, 0.15),
        "overhead": c.Row("first repro's time over the 3 commands run by hand", 0, 0.3),
        "parallel": c.Row("4 independent 1-second stages (Loom -j 4; DVC has no -j)", 0, 1.5),
    }
    info = {"load_before": os.getloadavg()}
    base = Path(tempfile.mkdtemp(prefix="loom-bench-pipeline-"))
    try:
        for rep, name in c.interleaved(args.reps, ["loom", "dvc"]):
            c.log(f"round {rep + 1}/{args.reps}: {name}")
            one_round(tools[0] if name == "loom" else tools[1], rep, args, rows, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    c.print_summary(list(rows.values()), "DVC")
    if args.doc:
        write_doc(args, rows, info, tools[1])
    return 0


def write_doc(args, rows: dict[str, c.Row], info: dict, dvc: Tool) -> None:
    version = subprocess.run(
        [str(dvc.exe), "--version"], capture_output=True, text=True
    ).stdout.strip()
    body = "\n".join(
        [
            "### Pipelines: `loom repro` vs `dvc repro`",
            "",
            c.machine_info({"loom": c.loom_version(), "dvc": version or "?"}),
            f"- load average before the run: {', '.join(f'{x:.2f}' for x in info['load_before'])}",
            f"- median of {args.reps} interleaved repetitions, each tool in a fresh git repo "
            f"with `data/raw` ({args.files:,} files of 1–8 KiB) added by its own `add`; the "
            "same pipeline YAML as loom.yaml and dvc.yaml; no-op: median of 5 after one "
            "warm-up; overhead: the first repro minus the three commands run by hand (Loom "
            "also records each stage as a tracked run, environment capture on)",
            "",
            c.table(list(rows.values()), "DVC"),
        ]
    )
    c.write_section("pipeline_vs_dvc", body)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
