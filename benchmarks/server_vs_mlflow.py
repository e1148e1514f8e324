"""``loom server`` against ``mlflow server`` 3.17.2, side by side, in one run.

MLflow (with psycopg for PostgreSQL) is installed by this script into
``benchmarks/.work/mlflow-server-venv``; its ``mlflow`` client is the client for
both servers (``_server_worker.py`` runs with that venv's Python). Workloads:

- start until the first ``/health`` answer, on a fresh SQLite store and again on
  the same store (each server with its default options);
- ``mlflow.log_metric`` one call at a time from the unmodified client: p50 and
  p95 (SQLite store, local artifacts, default options);
- 50 clients × 1,000 points each in ``log_batch`` calls of 100, and 50 clients ×
  100 points each with one ``MlflowClient.log_metric`` request per point (a tenth:
  MLflow's server needs minutes for it), both servers on a fresh PostgreSQL
  database with the same ``--workers``: wall time from the common start to the
  last point, every point read back;
- ``search_runs`` of 100 (filtered, ordered) out of 10,000 runs over HTTP, p50,
  both on PostgreSQL (the runs are inserted in bulk into each tool's tables).

Usage::

    .venv/bin/python benchmarks/server_vs_mlflow.py          # full run, writes the doc
    .venv/bin/python benchmarks/server_vs_mlflow.py --quick  # 1 repetition, tiny sizes
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import _common as c

MLFLOW_REQS = ["mlflow==3.17.2", "psycopg[binary]==3.3.9"]
WORKER = Path(__file__).with_name("_server_worker.py")
TRACKING_WORKER = Path(__file__).with_name("_tracking_worker.py")
PG_URL = os.environ.get("LOOM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TOOLS = ("loom", "mlflow")


class Tools:
    """Each tool's executables, and the environment its processes run in."""

    def __init__(self, mlflow_bin: Path) -> None:
        self.mlflow_bin = mlflow_bin
        # Loom runs from this checkout's src/, whichever checkout the venv was installed from
        self.env = dict(
            os.environ,
            PYTHONPATH=str(c.ROOT / "src"),
            PYTHONWARNINGS="ignore",
            GIT_PYTHON_REFRESH="quiet",
            MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
        )
        self.env.pop("MLFLOW_TRACKING_URI", None)
        # as users run them: imports from cached bytecode (the first, untimed start writes it)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)

    def server_cmd(self, tool: str, port: int, store: str, artifacts: Path, workers: int | None):
        if tool == "loom":
            cmd = [str(c.LOOM_BIN), "server", "--port", str(port)]
        else:
            cmd = [str(self.mlflow_bin / "mlflow"), "server", "--host", "127.0.0.1"]
            cmd += ["--port", str(port)]
        cmd += ["--backend-store-uri", store, "--artifacts-destination", str(artifacts)]
        return cmd + (["--workers", str(workers)] if workers else [])

    def worker(self, op: str, timeout: float, **args) -> c.Outcome:
        cmd = [self.mlflow_bin / "python", WORKER, op, json.dumps(args)]
        out = c.run_timed(cmd, cwd=c.WORK, env=self.env, timeout=timeout)
        if not out.ok:
            return out
        return c.Outcome(
            _last_json(out.extra["stdout"])["seconds"], extra=_last_json(out.extra["stdout"])
        )


def _last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process in its own process group; ``seconds``: start until /health answered."""

    def __init__(self, tools: Tools, tool: str, cwd: Path, store: str, workers: int | None = None):
        cwd.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(cwd / f"{tool}-server.log", "ab")  # noqa: SIM115 (closed in stop)
        cmd = tools.server_cmd(tool, self.port, store, cwd / "artifacts", workers)
        start = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=tools.env, stdout=self.log, stderr=self.log, start_new_session=True
        )
        try:
            self.seconds = self._wait_health(start)
        except RuntimeError as exc:
            self.stop()
            tail = Path(self.log.name).read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{exc}: {' / '.join(tail)}") from None

    def _wait_health(self, start: float, timeout: float = 120) -> float:
        import httpx

        while time.perf_counter() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=5).status_code == 200:
                    return time.perf_counter() - start
            except httpx.HTTPError:
                pass
            time.sleep(0.002)
        raise RuntimeError(f"no /health answer in {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if not self.log.closed:
            self.log.close()


def record(rows: dict[str, c.Row], key: str, tool: str, out: c.Outcome) -> None:
    c.log(f"  {tool} {key}: {c.fmt_s(out.seconds) if out.ok and out.seconds else out.error}")
    (rows[key].loom if tool == "loom" else rows[key].peer).append(out)


def sqlite_round(tools: Tools, tool: str, cwd: Path, args, rows: dict) -> None:
    """Start on a fresh store, log_metric latency, stop, start again on the same store."""
    store = f"sqlite:///{cwd / (tool + '.db')}"
    try:
        srv = Server(tools, tool, cwd, store)
    except RuntimeError as exc:
        for key in ("start_fresh", "start_again", "log_metric", "log_metric_p95"):
            record(rows, key, tool, c.Outcome(None, str(exc)))
        return
    record(rows, "start_fresh", tool, c.Outcome(srv.seconds))
    try:
        out = tools.worker("log_metric", args.timeout, url=srv.url, n=args.metric_calls, warm=20)
        if out.ok and out.extra["points"] != out.extra["expected"]:
            out = c.Outcome(None, f"{out.extra['points']} of {out.extra['expected']} points read")
        if out.ok and tool == "loom":
            out.extra["server_ms"] = server_side_ms(srv.log.name, "/runs/log-metric")
        record(rows, "log_metric", tool, out)
        p95 = c.Outcome(out.extra["p95"]) if out.ok else out
        record(rows, "log_metric_p95", tool, p95)
    finally:
        srv.stop()
    try:
        again = Server(tools, tool, cwd, store)
        again.stop()
        record(rows, "start_again", tool, c.Outcome(again.seconds))
    except RuntimeError as exc:
        record(rows, "start_again", tool, c.Outcome(None, str(exc)))


def server_side_ms(log: str, path: str) -> float | None:
    """Median time Loom's access log gives for ``path``: the server's part of a call."""
    import statistics

    ms = []
    with open(log) as fh:
        for line in fh:
            if line.startswith("{") and path in line:
                ms.append(json.loads(line)["ms"])
    return statistics.median(ms) if ms else None


class PgDatabase:
    """A fresh PostgreSQL database for one tool, dropped afterwards."""

    def __init__(self, tool: str) -> None:
        import psycopg

        self.name = f"bench_{tool}_{uuid.uuid4().hex[:8]}"
        self.admin = PG_URL.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        base = self.admin.rsplit("/", 1)[0]
        self.loom_uri = f"{base}/{self.name}".replace("postgresql://", "postgresql+psycopg://", 1)
        self.mlflow_uri = f"{base}/{self.name}"  # SQLAlchemy 2.1 reads it as psycopg 3
        self.uri = self.loom_uri if tool == "loom" else self.mlflow_uri

    def analyze(self) -> None:
        """Planner statistics, as autovacuum would gather them some time after a bulk insert."""
        import psycopg

        with psycopg.connect(self.mlflow_uri, autocommit=True) as conn:
            conn.execute("ANALYZE")

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def throughput(tools: Tools, srv: Server, args, points: int, batch: int) -> c.Outcome:
    """``args.clients`` clients over ``args.procs`` processes, started together; all read back."""
    exp = tools.worker("experiment", 120, url=srv.url, name=f"throughput-{batch}")
    if not exp.ok:
        return exp
    per = [args.clients // args.procs + (i < args.clients % args.procs) for i in range(args.procs)]
    procs = []
    for n in per:
        job = {"url": srv.url, "experiment_id": exp.extra["experiment_id"], "clients": n}
        job.update(points=points, batch=batch)
        cmd = [str(tools.mlflow_bin / "python"), str(WORKER), "throughput", json.dumps(job)]
        procs.append(
            subprocess.Popen(
                cmd, env=tools.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
        )
    for p in procs:  # every client has its run: now all start logging
        assert p.stdout is not None
        if p.stdout.readline().strip() != "ready":
            return c.Outcome(None, "a client process failed before logging")
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [_last_json(p.communicate(timeout=args.timeout)[0]) for p in procs]
    errors = [e for r in results for e in r["errors"]]
    if errors:
        return c.Outcome(None, f"{len(errors)} client errors, first: {errors[0]}")
    seconds = max(r["ended"] for r in results) - min(r["began"] for r in results)
    runs = [run for r in results for run in r["runs"]]
    seen = tools.worker("count", args.timeout, url=srv.url, runs=runs, each=points)
    if not seen.ok:
        return seen
    expected = args.clients * points
    if seen.extra["points"] != expected:
        return c.Outcome(None, f"{seen.extra['points']} of {expected} points read back")
    return c.Outcome(seconds, extra={"points_per_s": expected / seconds})


def bulk_runs(tools: Tools, tool: str, srv: Server, db: PgDatabase, n: int, to: float):
    """``n`` runs in experiment ``big``, inserted in bulk into the tool's own tables."""
    if tool == "loom":
        job = {"uri": db.loom_uri, "n": n, "experiment": "big"}
        cmd = [c.LOOM_PY, TRACKING_WORKER, "loom", "bulk_insert", json.dumps(job)]
        return c.run_timed(cmd, cwd=c.WORK, env=tools.env, timeout=to)
    exp = tools.worker("experiment", 120, url=srv.url, name="big")
    if not exp.ok:
        return exp
    return tools.worker(
        "mlflow_bulk_insert", to, db=db.mlflow_uri, n=n, experiment_id=exp.extra["experiment_id"]
    )


def pg_round(tools: Tools, tool: str, cwd: Path, args, rows: dict, m1: dict) -> None:
    db = PgDatabase(tool)
    try:
        srv = Server(tools, tool, cwd, db.uri, workers=args.workers)
    except RuntimeError as exc:
        db.drop()
        for key in ("throughput", "throughput_batch", "search"):
            record(rows, key, tool, c.Outcome(None, str(exc)))
        return
    try:
        for key, points, batch in (
            ("throughput_batch", args.points, 100),
            ("throughput", args.single_points, 0),
        ):
            out = throughput(tools, srv, args, points, batch)
            if out.ok:
                c.log(f"  {tool}: {out.extra['points_per_s']:,.0f} points/s")
            record(rows, key, tool, out)
        made = bulk_runs(tools, tool, srv, db, args.search_runs, args.timeout)
        if not made.ok:
            record(rows, "search", tool, c.Outcome(None, f"bulk insert: {made.error}"))
            return
        db.analyze()  # without it the first plans run 3-8x slower, for either tool
        out = tools.worker("search", args.timeout, url=srv.url, experiment_name="big", reps=20)
        if out.ok:
            m1.setdefault(tool, out.extra["m1"])
            if out.extra["count"] != 100 or not out.extra["valid"]:
                out = c.Outcome(None, f"{out.extra['count']} results, valid {out.extra['valid']}")
            elif tool == "loom":
                out.extra["server_ms"] = server_side_ms(srv.log.name, "/runs/search")
        record(rows, "search", tool, out)
    finally:
        srv.stop()
        db.drop()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1 repetition, tiny sizes")
    p.add_argument("--reps", type=int, help="repetitions of the SQLite rows (default 3, quick 1)")
    p.add_argument("--only", choices=TOOLS, help="run one tool only")
    p.add_argument("--workers", type=int, default=4, help="--workers of both PostgreSQL servers")
    p.add_argument("--procs", type=int, default=2, help="client processes sharing the clients")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per worker process")
    p.add_argument("--doc", action=argparse.BooleanOptionalAction, help="write docs/benchmarks.md")
    args = p.parse_args()
    q = args.quick
    args.reps = args.reps or (1 if q else 3)
    args.metric_calls = 50 if q else 500
    args.clients, args.points = (10, 50) if q else (50, 1_000)
    # one request per point: MLflow's server takes minutes for a tenth of the points
    args.single_points = 10 if q else 100
    args.search_runs = 1_000 if q else 10_000
    if args.doc is None:
        args.doc = not q and args.only is None
    return args


def make_rows(args) -> dict[str, c.Row]:
    load = f"{args.clients} clients × {args.points:,} points, PostgreSQL"
    single = f"{args.clients} clients × {args.single_points:,} points, PostgreSQL"
    return {
        "start_fresh": c.Row("start until the first /health answer, new SQLite store", 0, 0.5),
        "start_again": c.Row("start until the first /health answer, existing store", 0, 0.5),
        "log_metric": c.Row("`mlflow.log_metric` p50 (SQLite, local artifacts)", 0, 0.001),
        "log_metric_p95": c.Row("`mlflow.log_metric` p95", 0),
        "throughput_batch": c.Row(f"{load}, `log_batch` of 100: first to last point", 20),
        "throughput": c.Row(f"{single}, one `log_metric` each: first to last point", 20),
        "search": c.Row(
            f"`search_runs` 100 of {args.search_runs:,} runs, PostgreSQL, p50", 0, 0.02
        ),
    }


def main() -> int:
    args = parse_args()
    tools = Tools(c.ensure_venv("mlflow-server-venv", MLFLOW_REQS))
    names = [args.only] if args.only else list(TOOLS)
    rows = make_rows(args)
    info = {"load_before": os.getloadavg(), "m1": {}, "loom": c.loom_version(), "args": args}
    base = Path(tempfile.mkdtemp(prefix="loom-bench-server-"))
    try:
        for tool in names:  # untimed: bytecode caches written, files in the page cache
            c.log(f"warm-up start: {tool}")
            Server(
                tools, tool, base / f"{tool}-warm", f"sqlite:///{base / (tool + '-warm.db')}"
            ).stop()
        for rep, tool in c.interleaved(args.reps, names):
            c.log(f"SQLite round {rep + 1}/{args.reps}: {tool}")
            sqlite_round(tools, tool, base / f"{tool}-r{rep}", args, rows)
        for tool in names:
            c.log(f"PostgreSQL round: {tool}")
            pg_round(tools, tool, base / f"{tool}-pg", args, rows, info["m1"])
    finally:
        shutil.rmtree(base, ignore_errors=True)
    report(args, rows, info, tools)
    return 0


def report(args, rows: dict[str, c.Row], info: dict, tools: Tools) -> None:
    m1 = info["m1"]
    same = m1.get("loom") == m1.get("mlflow") if len(m1) == 2 else None
    c.save_raw(rows, "mlflow", "server-results.json")
    c.print_summary(list(rows.values()), "MLflow")
    print(f"search results agree (m1 values of the 100 runs, in order): {same}")
    for key in ("throughput", "throughput_batch"):
        print(f"{key}: Loom {_rate(rows[key], 'loom')}, MLflow {_rate(rows[key], 'peer')}")
    print(f"Loom's server-side log-metric p50 (access log): {_server_ms(rows['log_metric'])}")
    print(f"Loom's server-side search p50 (access log): {_server_ms(rows['search'])}")
    if args.doc:
        write_doc(args, rows, info, tools, same)


def _rate(row: c.Row, which: str) -> str:
    outs = row.loom if which == "loom" else row.peer
    rates = sorted(o.extra["points_per_s"] for o in outs if o.ok)
    return f"{rates[len(rates) // 2]:,.0f} points/s" if rates else "n/a"


def _server_ms(row: c.Row) -> str:
    ms = sorted(o.extra["server_ms"] for o in row.loom if o.ok and o.extra.get("server_ms"))
    return f"{ms[len(ms) // 2]:.2f} ms" if ms else "n/a"


def write_doc(args, rows: dict[str, c.Row], info: dict, tools: Tools, same: bool | None) -> None:
    mlflow_v = subprocess.run(
        [tools.mlflow_bin / "python", "-c", "import mlflow; print(mlflow.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    versions = {"loom": info["loom"], "mlflow": mlflow_v or "?"}
    agree = {True: "yes", False: "**no**", None: "not compared"}[same]
    one, batch = rows["throughput"], rows["throughput_batch"]
    body = "\n".join(
        [
            "### Team server: `loom server` vs `mlflow server`",
            "",
            # its 50 client threads and 8 server processes raise the load average themselves
            c.machine_info(versions, loaded=info["load_before"][0] >= 1.0),
            f"- load average before the run: {', '.join(f'{x:.2f}' for x in info['load_before'])}",
            "- the client for both servers: the unmodified `mlflow` package from MLflow's venv;"
            " each server started once untimed first (bytecode caches, page cache)",
            "- start and `log_metric`: each server with its default options (Loom 1 process,"
            f" MLflow 4 workers), median of {args.reps} interleaved repetitions;"
            f" `log_metric`: {args.metric_calls} timed calls after 20 warm-up calls, one run;"
            " the time includes the `mlflow` client's own work per call; Loom's access log"
            f" puts the server's part at {_server_ms(rows['log_metric'])} (p50)",
            f"- PostgreSQL rows: each server on a fresh database, both with `--workers"
            f" {args.workers}`; clients are threads in {args.procs} processes on the same"
            " machine, each its own `MlflowClient`, all started together; every point read"
            " back with `get_metric_history`; throughput with one `log_metric` per point:"
            f" Loom {_rate(one, 'loom')}, MLflow {_rate(one, 'peer')}; with `log_batch`:"
            f" Loom {_rate(batch, 'loom')}, MLflow {_rate(batch, 'peer')}",
            "- search: `metrics.m0 > 0.5 and params.p0 = '0.01'` ordered by `metrics.m1 DESC`,"
            " 100 results, p50 of 20 calls after one warm-up, including the client's parsing of"
            f" the 100 runs (Loom's access log: {_server_ms(rows['search'])} in the server);"
            " runs inserted in bulk into each tool's own tables (20 params, 5 metrics, 3 tags),"
            " then `ANALYZE`",
            f"- Loom's and MLflow's 100 search results agree (same m1 values, same order): {agree}",
            "",
            c.table(list(rows.values()), "MLflow"),
        ]
    )
    c.write_section("server_vs_mlflow", body)


if __name__ == "__main__":
    sys.exit(main())
