"""Loom's data versioning against DVC 3.67.1, side by side, in one run.

Builds a real git repo per tool and repetition with 20,000 seeded small files
(1–8 KiB, nested folders) and one seeded 2 GiB file, then times the same
commands with ``loom`` (this project's venv) and ``dvc`` (installed by this
script into ``benchmarks/.work/dvc-venv``): add, status, re-add after changing
10 files, push/pull to a local remote and to moto's S3 server, checkout after
deleting the workspace copy, and add of the large file.

Usage::

    .venv/bin/python benchmarks/data_vs_dvc.py          # full run, writes the doc
    .venv/bin/python benchmarks/data_vs_dvc.py --quick  # 1 repetition, 2,000 files, 256 MiB
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import _common as c
import _workspace as ws

DVC_REQS = ["dvc==3.67.1", "dvc-s3"]
BUCKET = "loom-bench"
DATA = "data/raw"
BIG = "data/big.bin"


@dataclass
class Tool:
    """How one tool spells each step; ``exe`` is its command-line program."""

    name: str
    exe: str
    meta: str  # folder of the tool's own state in a repo
    pointer_ext: str

    def init(self) -> list[str]:
        return [self.exe, "init"]

    def add(self, path: str) -> list[str]:
        return [self.exe, "add", path]

    def status(self) -> list[str]:
        return [self.exe, "status"]

    def checkout(self) -> list[str]:
        return [self.exe, "checkout"]

    def push(self, remote: str) -> list[str]:
        return [self.exe, "push", "-r", remote]

    def pull(self, remote: str) -> list[str]:
        return [self.exe, "pull", "-r", remote]

    def cache(self, repo: Path) -> Path:
        return repo / self.meta / "cache"

    def remote_setup(self, name: str, url: str, endpoint: str | None) -> list[list[str]]:
        if self.name == "loom":
            return [
                [
                    self.exe,
                    "remote",
                    "add",
                    name,
                    url,
                    *(["--endpoint-url", endpoint] * bool(endpoint)),
                ]
            ]
        cmds = [[self.exe, "remote", "add", name, url]]
        if endpoint:
            cmds.append([self.exe, "remote", "modify", name, "endpointurl", endpoint])
        return cmds


def setup_env(endpoint: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DVC_NO_ANALYTICS="1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@example.invalid",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@example.invalid",
    )
    if endpoint:
        # Loom's S3 remote reads the standard variable; DVC gets `endpointurl` as well.
        env["AWS_ENDPOINT_URL"] = endpoint
        env["AWS_ENDPOINT_URL_S3"] = endpoint
    return env


class Moto:
    """moto's standalone S3 server on a free 127.0.0.1 port, started from the project venv."""

    def __init__(self) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        exe = c.LOOM_PY.parent / "moto_server"
        self.proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not self._up():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("moto_server did not come up")
            time.sleep(0.05)

    def _up(self) -> bool:
        try:
            urllib.request.urlopen(self.url + "/moto-api/", timeout=1)
            return True
        except OSError:
            return False

    def reset(self) -> None:
        """Drop every bucket (frees the server's memory) and create a fresh one."""
        req = urllib.request.Request(self.url + "/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=30)
        req = urllib.request.Request(f"{self.url}/{BUCKET}", method="PUT")
        urllib.request.urlopen(req, timeout=30)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def make_rows(args: argparse.Namespace) -> dict[str, c.Row]:
    n, big = args.files, args.big_mib
    rows = [
        ("add", c.Row(f"add {n:,} files", 10)),
        ("status", c.Row("status, nothing changed", 5, max_loom_s=0.3)),
        ("readd", c.Row("re-add after changing 10 files", 0)),
        ("add_big", c.Row(f"add one {big:,} MiB file", 4, note="throughput")),
        ("push_local", c.Row(f"push {n:,} files, local remote", 5)),
        ("checkout", c.Row(f"checkout {n:,} files, workspace deleted", 5)),
        ("pull_local", c.Row(f"pull {n:,} files, local remote, empty cache", 5)),
        ("push_s3", c.Row(f"push {n:,} files, S3 (moto)", 5)),
        ("pull_s3", c.Row(f"pull {n:,} files, S3 (moto), empty cache", 5)),
    ]
    if args.no_s3:
        rows = [r for r in rows if not r[0].endswith("_s3")]
    return dict(rows)


def restored(repo: Path, expect: tuple[int, str], outcome: c.Outcome) -> c.Outcome:
    """Turn a command that 'succeeded' but left the wrong files into an error."""
    if not outcome.ok:
        return outcome
    got = ws.fingerprint(repo / DATA)
    if got != expect:
        return c.Outcome(None, f"workspace differs after restore: {got[0]} of {expect[0]} files")
    return outcome


def one_round(tool: Tool, rep: int, args, rows, env, moto: Moto | None, big: Path) -> None:
    repo = c.WORK / "data" / f"{tool.name}-r{rep}"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    timeout = args.timeout

    def timed(key: str, cmd: list[str]) -> c.Outcome:
        out = c.run_timed(cmd, cwd=repo, env=env, timeout=timeout)
        c.log(f"  {tool.name} r{rep} {key}: {c.fmt_s(out.seconds) if out.ok else out.error}")
        return out

    def record(key: str, out: c.Outcome) -> None:
        if key in rows:
            (rows[key].loom if tool.name == "loom" else rows[key].peer).append(out)

    def commit(msg: str) -> None:
        subprocess.run(["git", "add", "-A"], cwd=repo, env=env, capture_output=True)
        subprocess.run(["git", "commit", "-qm", msg], cwd=repo, env=env, capture_output=True)

    c.must(["git", "init", "-q"], cwd=repo, env=env)
    setup = c.run_timed(tool.init(), cwd=repo, env=env, timeout=120)
    if not setup.ok:
        for key in rows:
            record(key, c.Outcome(None, f"init: {setup.error}"))
        return
    commit("init")
    paths = ws.make_small_files(repo / DATA, args.files)

    record("add", timed("add", tool.add(DATA)))
    commit("raw v1")
    record("status", timed("status", tool.status()))
    ws.modify_files(repo / DATA, paths, 10, seed=100 + rep)
    record("readd", timed("readd", tool.add(DATA)))
    commit("raw v2")
    expect = ws.fingerprint(repo / DATA)

    remote_dir = c.WORK / "data" / f"remote-{tool.name}-r{rep}"
    shutil.rmtree(remote_dir, ignore_errors=True)
    remote_dir.mkdir(parents=True)
    for cmd in tool.remote_setup("local", str(remote_dir), None):
        c.run_timed(cmd, cwd=repo, env=env, timeout=60)
    record("push_local", timed("push_local", tool.push("local")))

    shutil.rmtree(repo / DATA)
    record("checkout", restored(repo, expect, timed("checkout", tool.checkout())))

    shutil.rmtree(repo / DATA)
    shutil.rmtree(tool.cache(repo), ignore_errors=True)
    record("pull_local", restored(repo, expect, timed("pull_local", tool.pull("local"))))

    if moto is not None and "push_s3" in rows and rep < args.s3_reps:
        moto.reset()
        url = f"s3://{BUCKET}/{tool.name}-r{rep}"
        for cmd in tool.remote_setup("s3", url, moto.url):
            c.run_timed(cmd, cwd=repo, env=env, timeout=60)
        record("push_s3", timed("push_s3", tool.push("s3")))
        shutil.rmtree(repo / DATA)
        shutil.rmtree(tool.cache(repo), ignore_errors=True)
        record("pull_s3", restored(repo, expect, timed("pull_s3", tool.pull("s3"))))

    ws.copy_big_file(big, repo / BIG)
    record("add_big", timed("add_big", tool.add(BIG)))

    shutil.rmtree(repo, ignore_errors=True)
    shutil.rmtree(remote_dir, ignore_errors=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1 repetition, 2,000 files, 256 MiB")
    p.add_argument("--reps", type=int, help="repetitions (default 3, quick 1)")
    p.add_argument("--files", type=int, help="small files (default 20,000)")
    p.add_argument("--big-mib", type=int, help="large file size in MiB (default 2048)")
    p.add_argument("--no-s3", action="store_true", help="skip the S3 (moto) remote")
    p.add_argument("--s3-reps", type=int, help="repetitions with the S3 remote (default: all)")
    p.add_argument("--only", choices=["loom", "dvc"], help="run one tool only")
    p.add_argument("--timeout", type=float, default=600, help="seconds per operation")
    p.add_argument("--doc", action=argparse.BooleanOptionalAction, help="write docs/benchmarks.md")
    args = p.parse_args()
    args.reps = args.reps or (1 if args.quick else 3)
    args.files = args.files or (2_000 if args.quick else 20_000)
    args.big_mib = args.big_mib or (256 if args.quick else 2048)
    args.s3_reps = args.reps if args.s3_reps is None else args.s3_reps
    if args.doc is None:
        args.doc = not args.quick and args.only is None
    return args


def dvc_version(bin_dir: Path) -> str:
    out = subprocess.run([str(bin_dir / "dvc"), "--version"], capture_output=True, text=True)
    return out.stdout.strip() or "?"


def main() -> int:
    args = parse_args()
    dvc_bin = c.ensure_venv("dvc-venv", DVC_REQS)
    tools = [
        Tool("loom", str(c.LOOM_BIN), ".loom", ".loom"),
        Tool("dvc", str(dvc_bin / "dvc"), ".dvc", ".dvc"),
    ]
    if args.only:
        tools = [t for t in tools if t.name == args.only]
    rows = make_rows(args)
    load_before = os.getloadavg()

    big = c.WORK / "data" / f"big-{args.big_mib}MiB.bin"
    if not big.exists():
        c.log(f"generating the {args.big_mib} MiB file")
        ws.make_big_file(big, args.big_mib << 20)

    moto = None if args.no_s3 else Moto()
    env = setup_env(moto.url if moto else None)
    info = {"load_before": load_before, "done": 0, "dvc_bin": dvc_bin, "loom": c.loom_version()}
    names = [t.name for t in tools]
    try:
        for i, (rep, name) in enumerate(c.interleaved(args.reps, names)):
            tool = next(t for t in tools if t.name == name)
            c.log(f"round {rep + 1}/{args.reps}: {name}")
            one_round(tool, rep, args, rows, env, moto, big)
            if (i + 1) % len(names) == 0:  # a whole repetition is in: put it on record
                info["done"] = rep + 1
                report(args, rows, info)
    finally:
        if moto:
            moto.stop()
    report(args, rows, info, final=True)
    return 0


def report(args, rows: dict[str, c.Row], info: dict, final: bool = False) -> None:
    """Print the table (at the end) and write it to the doc (after every repetition)."""
    c.save_raw(rows, "dvc", "data-results.json")
    if final:
        c.print_summary(list(rows.values()), "DVC")
    if not args.doc:
        return
    versions = {"loom": info["loom"], "dvc": dvc_version(info["dvc_bin"])}
    s3 = min(args.s3_reps, info["done"])
    body = "\n".join(
        [
            "### Data versioning: Loom vs DVC",
            "",
            c.machine_info(versions),
            f"- load average before the run: {', '.join(f'{x:.2f}' for x in info['load_before'])}",
            f"- workload: {args.files:,} files of 1–8 KiB in nested folders, one "
            f"{args.big_mib:,} MiB file; median of {info['done']} of {args.reps} planned "
            f"interleaved repetitions" + (f" ({s3} with S3)" if s3 < info["done"] else ""),
            "",
            c.table(list(rows.values()), "DVC"),
        ]
    )
    c.write_section("data_vs_dvc", body)


if __name__ == "__main__":
    sys.exit(main())
