"""Loom's experiment tracking against MLflow 3.17.2, side by side, in one run.

Both use the same kind of store, a SQLite file (MLflow ``sqlite:///…/mlflow.db``,
Loom ``sqlite:///…/loom.db``), and every workload runs in a fresh process of
the tool's own venv (MLflow is installed by this script into
``benchmarks/.work/mlflow-venv``; Loom runs from this project's venv):
5,000 ``log_metric`` calls until stored and readable from a fresh client,
100,000 points in batches of 1,000, 2,000 runs with 20 params, 5 metrics and
3 tags, a filtered and ordered search of 100 runs (and, for Loom only, the
same search at 100,000 runs), and ``import``.

Usage::

    .venv/bin/python benchmarks/tracking_vs_mlflow.py          # full run, writes the doc
    .venv/bin/python benchmarks/tracking_vs_mlflow.py --quick  # 1 repetition, smaller sizes
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c

MLFLOW_REQS = ["mlflow==3.17.2"]
WORKER = Path(__file__).with_name("_tracking_worker.py")


class Tools:
    """The Python of each tool's venv and the environment its workers run in."""

    def __init__(self, mlflow_bin: Path) -> None:
        self.python = {"loom": c.LOOM_PY, "mlflow": mlflow_bin / "python"}
        self.env = dict(os.environ, GIT_PYTHON_REFRESH="quiet", PYTHONWARNINGS="ignore")

    def worker(self, tool: str, op: str, cwd: Path, timeout: float, **args) -> c.Outcome:
        args["uri"] = f"sqlite:///{cwd / (tool + '.db')}"
        env = dict(self.env, MLFLOW_TRACKING_URI=args["uri"], LOOM_TRACKING_URI=args["uri"])
        cmd = [self.python[tool], WORKER, tool, op, json.dumps(args)]
        out = c.run_timed(cmd, cwd=cwd, env=env, timeout=timeout)
        if not out.ok:
            return out
        try:
            result = json.loads(out.extra["stdout"].strip().splitlines()[-1])
        except (ValueError, IndexError):
            return c.Outcome(None, f"no result line from the worker: {out.extra['stdout'][-200:]}")
        return c.Outcome(result["seconds"], extra=result)


def checked(out: c.Outcome, ok: bool, why: str) -> c.Outcome:
    return out if (not out.ok or ok) else c.Outcome(None, why)


def one_round(tools: Tools, tool: str, rep: int, args, rows: dict, base: Path, m1: dict) -> None:
    cwd = base / f"{tool}-r{rep}"
    cwd.mkdir(parents=True)
    to = args.timeout

    def record(key: str, out: c.Outcome) -> None:
        c.log(f"  {tool} r{rep} {key}: {c.fmt_s(out.seconds) if out.ok else out.error}")
        (rows[key].loom if tool == "loom" else rows[key].peer).append(out)

    setup = tools.worker(tool, "setup", cwd, to, experiments=["metric", "batch", "runs"])
    if not setup.ok:
        for key in ("log_metric", "log_batch", "create_runs", "search"):
            record(key, c.Outcome(None, f"setup: {setup.error}"))
        return

    out = tools.worker(tool, "log_metric", cwd, to, n=args.metric_calls)
    if out.ok:
        seen = tools.worker(
            tool, "count_points", cwd, to, run_id=out.extra["run_id"], keys=["loss"]
        )
        got = seen.extra.get("points") if seen.ok else seen.error
        out = checked(out, got == args.metric_calls, f"fresh client read {got} points")
    record("log_metric", out)

    out = tools.worker(tool, "log_batch", cwd, to, n=args.batch_points)
    if out.ok:
        keys = [f"k{j}" for j in range(out.extra["keys"])]
        seen = tools.worker(tool, "count_points", cwd, to, run_id=out.extra["run_id"], keys=keys)
        got = seen.extra.get("points") if seen.ok else seen.error
        out = checked(out, got == args.batch_points, f"fresh client read {got} points")
    record("log_batch", out)

    record("create_runs", tools.worker(tool, "create_runs", cwd, to, n=args.runs))
    out = tools.worker(tool, "search", cwd, to, experiment="runs")
    if out.ok:
        m1.setdefault(tool, out.extra["m1"])
        # 2,000 seeded runs hold about 333 matches; smaller quick runs may hold fewer.
        full = out.extra["count"] == 100 or args.runs < 1000
        out = checked(out, full, f"{out.extra['count']} results, not 100")
        out = checked(out, out.extra["valid"], "a result fails the filter or the order")
    record("search", out)
    shutil.rmtree(cwd, ignore_errors=True)


def schema_key() -> str:
    """Digest of Loom's migrations: a new one upgrades a kept store, an edited one rebuilds it."""
    import hashlib

    digest = hashlib.blake2b(digest_size=8)
    for f in sorted((c.ROOT / "src" / "loom" / "store" / "migrations").glob("**/*.py")):
        digest.update(f.read_bytes())
    return digest.hexdigest()


def big_store(tools: Tools, args, rows: dict) -> Path | None:
    """A Loom store of ``args.big_runs`` runs, inserted in bulk into Loom's own tables.

    Through the client a run costs several transactions (minutes for 100,000),
    so the worker inserts the same rows with one executemany per table; a check
    at 2,000 runs gave the same search results as runs made with the client.
    The store is kept under ``benchmarks/.work/`` while Loom's migrations are unchanged.
    """
    cwd = c.WORK / f"tracking-big-{args.big_runs}-{schema_key()}"
    done = cwd / "complete"
    if done.exists():
        rows["bulk"].note = f"store kept from {done.read_text().strip()}"
        rows["bulk"].loom.append(c.Outcome(float(json.loads(cwd.joinpath("took").read_text()))))
        return cwd
    shutil.rmtree(cwd, ignore_errors=True)
    cwd.mkdir(parents=True)
    out = tools.worker("loom", "bulk_insert", cwd, args.timeout, n=args.big_runs)
    c.log(f"  loom bulk insert of {args.big_runs:,} runs: {out.seconds or out.error}")
    rows["bulk"].loom.append(out)
    if not out.ok:
        shutil.rmtree(cwd, ignore_errors=True)
        return None
    cwd.joinpath("took").write_text(json.dumps(out.seconds))
    done.write_text(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    return cwd


def big_search(tools: Tools, args, rows: dict) -> None:
    """Loom only: the same search in a store of ``args.big_runs`` runs, checked like the others."""
    cwd = big_store(tools, args, rows)
    if cwd is None:
        rows["big_search"].loom.append(c.Outcome(None, "bulk create failed"))
        return
    out = tools.worker("loom", "search", cwd, args.timeout, experiment="big")
    if out.ok:
        out = checked(out, out.extra["count"] == 100, f"{out.extra['count']} results, not 100")
        out = checked(out, out.extra["valid"], "a result fails the filter or the order")
        if out.ok:
            first = c.fmt_s(out.extra["first"])
            rows["big_search"].note = f"first call in a fresh process {first}"
    c.log(
        f"  loom search at {args.big_runs:,} runs: {c.fmt_s(out.seconds) if out.ok else out.error}"
    )
    rows["big_search"].loom.append(out)


def time_import(python: Path, module: str, reps: int) -> c.Outcome:
    """Median wall time of ``python -c 'import module'`` after one warm-up."""
    cmd = [python, "-c", f"import {module}"] if module else [python, "-c", "pass"]
    warm = c.run_timed(cmd, cwd=c.WORK, timeout=120)
    if not warm.ok:
        return warm
    times = []
    for _ in range(reps):
        out = c.run_timed(cmd, cwd=c.WORK, timeout=120)
        if not out.ok:
            return out
        times.append(out.seconds)
    return c.Outcome(statistics.median(times))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1 repetition, smaller sizes")
    p.add_argument("--reps", type=int, help="repetitions (default 3, quick 1)")
    p.add_argument("--only", choices=["loom", "mlflow"], help="run one tool only")
    p.add_argument("--big-runs", type=int, help="runs for Loom's large search (default 100,000)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per worker process")
    p.add_argument("--doc", action=argparse.BooleanOptionalAction, help="write docs/benchmarks.md")
    args = p.parse_args()
    q = args.quick
    args.reps = args.reps or (1 if q else 3)
    args.metric_calls = 1_000 if q else 5_000
    args.batch_points = 20_000 if q else 100_000
    args.runs = 300 if q else 2_000
    args.big_runs = args.big_runs if args.big_runs is not None else (10_000 if q else 100_000)
    if args.doc is None:
        args.doc = not q and args.only is None
    return args


def make_rows(args) -> dict[str, c.Row]:
    return {
        "log_metric": c.Row(f"{args.metric_calls:,} log_metric calls until readable", 50),
        "log_batch": c.Row(f"{args.batch_points:,} points, log_batch of 1,000", 10),
        "create_runs": c.Row(f"create {args.runs:,} runs (20 params, 5 metrics, 3 tags)", 10),
        "search": c.Row(f"search 100 of {args.runs:,} runs, filtered + ordered", 10),
        "bulk": c.Row(f"insert {args.big_runs:,} runs in bulk (Loom only, set-up)", 0),
        "big_search": c.Row(f"same search at {args.big_runs:,} runs (Loom only)", 0, 0.1),
        "import": c.Row("`python -c 'import …'`", 5, max_loom_s=0.3),
    }


def main() -> int:
    args = parse_args()
    tools = Tools(c.ensure_venv("mlflow-venv", MLFLOW_REQS))
    names = [args.only] if args.only else ["loom", "mlflow"]
    rows = make_rows(args)
    info = {"load_before": os.getloadavg(), "m1": {}, "done": 0, "loom": c.loom_version()}
    # The short workloads first, so that a run cut short still reports them.
    for _ in range(args.reps):
        for tool in names:
            out = time_import(tools.python[tool], tool, 5)
            c.log(f"  import {tool}: {c.fmt_s(out.seconds) if out.ok else out.error}")
            (rows["import"].loom if tool == "loom" else rows["import"].peer).append(out)
    info["baseline"] = time_import(c.LOOM_PY, "", 5)
    if "loom" in names and args.big_runs:
        big_search(tools, args, rows)
    base = Path(tempfile.mkdtemp(prefix="loom-bench-tracking-"))
    try:
        for i, (rep, tool) in enumerate(c.interleaved(args.reps, names)):
            c.log(f"round {rep + 1}/{args.reps}: {tool}")
            one_round(tools, tool, rep, args, rows, base, info["m1"])
            if (i + 1) % len(names) == 0:  # a whole repetition is in: put it on record
                info["done"] = rep + 1
                report(args, rows, info, tools)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    report(args, rows, info, tools, final=True)
    return 0


def report(args, rows: dict[str, c.Row], info: dict, tools: Tools, final: bool = False) -> None:
    """Print the table (at the end) and write it to the doc (after every repetition)."""
    m1 = info["m1"]
    info["same"] = m1.get("loom") == m1.get("mlflow") if len(m1) == 2 else None
    c.save_raw(rows, "mlflow", "tracking-results.json")
    if final:
        c.print_summary(list(rows.values()), "MLflow")
        print(f"search results agree (m1 values of the 100 runs, in order): {info['same']}")
        base = info["baseline"]
        print(f"python -c pass: {c.fmt_s(base.seconds) if base.ok else base.error}")
    if args.doc:
        write_doc(args, list(rows.values()), info, tools)


def write_doc(args, rows, info: dict, tools: Tools) -> None:
    mlflow_v = subprocess.run(
        [tools.python["mlflow"], "-c", "import mlflow; print(mlflow.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    versions = {"loom": info["loom"], "mlflow": mlflow_v or "?"}
    agree = {True: "yes", False: "**no**", None: "not compared"}[info["same"]]
    base = info["baseline"]
    body = "\n".join(
        [
            "### Tracking: Loom vs MLflow (local SQLite store)",
            "",
            c.machine_info(versions),
            f"- load average before the run: {', '.join(f'{x:.2f}' for x in info['load_before'])}",
            f"- median of {info['done']} of {args.reps} planned interleaved repetitions, each"
            " workload in a fresh process; search: median of 5 calls after one warm-up call in"
            " the same process; import: median of 5 after one warm-up",
            f"- `python -c pass`: {c.fmt_s(base.seconds) if base.ok else 'n/a'}",
            f"- Loom's and MLflow's 100 search results agree (same m1 values, same order): {agree}",
            "",
            c.table(rows, "MLflow"),
        ]
    )
    c.write_section("tracking_vs_mlflow", body)


if __name__ == "__main__":
    sys.exit(main())
