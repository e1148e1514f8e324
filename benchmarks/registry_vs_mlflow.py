"""Model registry: Loom vs MLflow side by side — log/register/load, serving, alias history.

MLflow (with scikit-learn) is installed into a venv of its own under
benchmarks/.work/; both tools run the same workloads in one interleaved run, and
the table goes into docs/benchmarks.md (section ``registry_vs_mlflow``).

    python benchmarks/registry_vs_mlflow.py            # full run (3 repetitions)
    python benchmarks/registry_vs_mlflow.py --quick    # 1 repetition, shorter load
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c

MLFLOW_REQS = ["mlflow==3.17.2", "scikit-learn==1.9.1", "skops", "pandas"]
WORKER = Path(__file__).with_name("_registry_worker.py")
BODY = json.dumps({"inputs": [[0.1, -0.2, 0.3, 0.0, 1.0, 0.5, -1.0, 0.2]]})


class Tools:
    def __init__(self, mlflow_bin: Path) -> None:
        self.python = {"loom": c.LOOM_PY, "mlflow": mlflow_bin / "python"}
        self.bin = {"loom": c.LOOM_BIN, "mlflow": mlflow_bin / "mlflow"}

    def worker(self, tool: str, op: str, work: Path, n: int = 1) -> c.Outcome:
        cmd = [self.python[tool], WORKER, tool, op, work, str(n)]
        out = c.run_timed(cmd, cwd=work.parent, timeout=1800)
        if not out.ok:
            return out
        result = json.loads(out.extra["stdout"].strip().splitlines()[-1])
        return c.Outcome(result.get("seconds"), extra={**result, "process_s": out.seconds})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(port: int, seconds: float) -> tuple[float, float]:
    """Requests per second and median latency over one keep-alive connection.

    TCP_NODELAY on the client, as `requests` and urllib3 set it: the numbers are the
    server's, not a client's Nagle stall.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    headers = {"Content-Type": "application/json"}
    lat: list[float] = []
    stop = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < stop:
        t = time.perf_counter()
        conn.request("POST", "/invocations", BODY, headers)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}")
        lat.append(time.perf_counter() - t)
    return len(lat) / (time.perf_counter() - start), statistics.median(lat)


def serve_once(tools: Tools, tool: str, work: Path, seconds: float) -> c.Outcome:
    """Register one model, serve it, warm up, then measure; seconds = 1 / requests per s."""
    prep = tools.worker(tool, "prepare", work)
    if not prep.ok:
        return prep
    port = free_port()
    env = {**os.environ}
    if tool == "loom":
        cmd = [tools.bin["loom"], "models", "serve", "models:/clf/1", "--port", str(port)]
        cmd += ["--tracking-uri", f"sqlite:///{work / 'loom.db'}"]
    else:
        cmd = [tools.bin["mlflow"], "models", "serve", "-m", "models:/clf/1", "-p", str(port)]
        cmd += ["--env-manager", "local"]
        env["MLFLOW_TRACKING_URI"] = f"sqlite:///{work / 'mlflow.db'}"
        # it starts `uvicorn` through bash: its venv's bin must come first on PATH
        env["PATH"] = f"{tools.bin['mlflow'].parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.Popen(
        [str(x) for x in cmd], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                return c.Outcome(None, f"server exited: {proc.stderr.read()[-300:]!r}")
            try:
                load(port, 0.2)  # also the warm-up
                break
            except (OSError, RuntimeError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    return c.Outcome(None, "server never answered")
                time.sleep(0.2)  # polling a server that is starting
        rps, p50 = load(port, seconds)
        return c.Outcome(1 / rps, extra={"rps": rps, "p50": p50})
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def time_import(python: Path, module: str, reps: int = 5) -> c.Outcome:
    cmd = [python, "-c", f"import {module}"]
    c.run_timed(cmd, cwd=c.WORK, timeout=120)  # warm-up
    outs = [c.run_timed(cmd, cwd=c.WORK, timeout=120) for _ in range(reps)]
    bad = next((o for o in outs if not o.ok), None)
    return bad or c.Outcome(statistics.median(o.seconds for o in outs if o.seconds))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1 repetition, shorter load")
    p.add_argument("--reps", type=int, help="repetitions (default 3, quick 1)")
    p.add_argument("--doc", action=argparse.BooleanOptionalAction, help="write the doc")
    args = p.parse_args()
    args.reps = args.reps or (1 if args.quick else 3)
    args.cycles = 3 if args.quick else 10
    args.load_s = 3.0 if args.quick else 10.0
    args.events = 10_000
    args.doc = (not args.quick) if args.doc is None else args.doc
    return args


def main() -> int:
    args = parse_args()
    tools = Tools(c.ensure_venv("mlflow-registry-venv", MLFLOW_REQS))
    rows = {
        "cycle": c.Row("log_model + register_model + load_model (scikit-learn)", 5),
        "rps": c.Row("serve: seconds per request, 1 keep-alive client (1 / rps)", 3),
        "cold": c.Row("fresh process: import, load_model, predict (imports included)", 0),
        "history": c.Row(f"which version held an alias at T, {args.events:,} events", 0, 0.05),
        "import": c.Row("`python -c 'import …'`", 0, 0.05),
    }
    info: dict = {"load_before": os.getloadavg(), "p50": {"loom": [], "mlflow": []}}
    base = Path(tempfile.mkdtemp(prefix="loom-bench-registry-"))
    try:
        for rep, tool in c.interleaved(args.reps, ["loom", "mlflow"]):
            c.log(f"round {rep + 1}/{args.reps}: {tool}")
            side = "loom" if tool == "loom" else "peer"
            out = tools.worker(tool, "cycle", base / f"{tool}-cycle-{rep}", args.cycles)
            getattr(rows["cycle"], side).append(out)
            work = base / f"{tool}-serve-{rep}"
            out = serve_once(tools, tool, work, args.load_s)  # prepares models:/clf/1 in work
            cold = tools.worker(tool, "cold", work)
            getattr(rows["cold"], side).append(c.Outcome(cold.extra.get("process_s"), cold.error))
            getattr(rows["rps"], side).append(out)
            if out.ok:
                info["p50"][tool].append(out.extra["p50"])
            c.log(f"  {tool}: cycle {rows['cycle'].cell(side)}, serve {out.extra or out.error}")
        for rep in range(args.reps):
            rows["history"].loom.append(
                tools.worker("loom", "history", base / f"hist-{rep}", args.events)
            )
        rows["import"].loom.append(time_import(c.LOOM_PY, "loom"))
        rows["import"].peer.append(time_import(tools.python["mlflow"], "mlflow"))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    c.print_summary(list(rows.values()), "MLflow")
    for tool, p50s in info["p50"].items():
        if p50s:
            print(f"serve p50 latency, {tool}: {statistics.median(p50s) * 1000:.2f} ms")
    if args.doc:
        write_doc(args, rows, info, tools)
    return 0


def write_doc(args, rows: dict[str, c.Row], info: dict, tools: Tools) -> None:
    mlflow_v = subprocess.run(
        [tools.python["mlflow"], "-c", "import mlflow; print(mlflow.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    p50 = {
        t: f"{statistics.median(v) * 1000:.2f} ms" if v else "n/a" for t, v in info["p50"].items()
    }
    rps = {
        side: statistics.median(o.extra["rps"] for o in getattr(rows["rps"], side) if o.ok)
        if any(o.ok for o in getattr(rows["rps"], side))
        else None
        for side in ("loom", "peer")
    }
    shown = {k: f"{v:,.0f}" if v else "n/a" for k, v in rps.items()}
    body = "\n".join(
        [
            "### Model registry: Loom vs MLflow (local SQLite store, scikit-learn model)",
            "",
            c.machine_info({"loom": c.loom_version(), "mlflow": mlflow_v or "?"}),
            f"- load average before the run: {', '.join(f'{x:.2f}' for x in info['load_before'])}",
            f"- median of {args.reps} interleaved repetitions; log/register/load: median of "
            f"{args.cycles} cycles per process, each logging a different model, after the "
            "imports and the training (not timed); serving: one keep-alive client with "
            f"TCP_NODELAY for {args.load_s:g} s after a warm-up, `mlflow models serve "
            "--env-manager local` against `loom models serve`, one worker each",
            f"- serving: {shown['loom']} requests/s for Loom, {shown['peer']} for MLflow; "
            f"median latency {p50['loom']} for Loom, {p50['mlflow']} for MLflow",
            "- alias history: median of 50 `get_model_version_at` calls in one process",
            "- fresh process: most of both is imports. Loom's sklearn flavor loads with skops, "
            "whose import lists every scikit-learn estimator (about 2 s), and Loom's venv has "
            "torch installed for its tests, which scikit-learn 1.9 then imports too (about 1.3 s);"
            " MLflow's venv has no torch",
            "",
            c.table(list(rows.values()), "MLflow"),
        ]
    )
    c.write_section("registry_vs_mlflow", body)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
