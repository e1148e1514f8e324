"""Shared helpers for the benchmarks: competitor venvs, timed commands, result tables.

The benchmarks are scripts, not tests. Each one installs its competitor into a
venv of its own under ``benchmarks/.work/`` (git-ignored), runs Loom and the
competitor side by side with interleaved repetitions, prints the ratios and
rewrites its own section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
DOC = ROOT / "docs" / "benchmarks.md"
LOOM_PY = Path(sys.executable)
LOOM_BIN = LOOM_PY.parent / "loom"


def log(msg: str) -> None:
    """Progress line on stderr, prefixed with the wall-clock time."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ensure_venv(name: str, requirements: Sequence[str]) -> Path:
    """Create (or reuse) ``benchmarks/.work/<name>`` with ``requirements``; return its bin dir.

    >>> bin_dir = ensure_venv("dvc-venv", ["dvc==3.67.1"])  # doctest: +SKIP
    """
    venv = WORK / name
    stamp = venv / ".bench-installed"
    wanted = "\n".join(requirements)
    if stamp.exists() and stamp.read_text() == wanted:
        return venv / "bin"
    log(f"installing {', '.join(requirements)} into {venv.relative_to(ROOT)}")
    if not (venv / "bin" / "python").exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, *requirements], check=True)
    stamp.write_text(wanted)
    return venv / "bin"


@dataclass
class Outcome:
    """One timed attempt: seconds, or the error that stopped it."""

    seconds: float | None
    error: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def run_timed(
    cmd: Sequence[str | os.PathLike],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> Outcome:
    """Run ``cmd`` and time it; a non-zero exit or a timeout becomes an error Outcome."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [str(c) for c in cmd],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return Outcome(None, f"timeout after {timeout:.0f} s")
    except OSError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
        return Outcome(None, f"exit {proc.returncode}: {' | '.join(tail)[:300]}")
    return Outcome(seconds, extra={"stdout": proc.stdout})


def must(cmd: Sequence[str | os.PathLike], *, cwd: Path, env: dict | None = None) -> str:
    """Run an untimed setup command; raise with its output if it fails."""
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed: {proc.stderr or proc.stdout}")
    return proc.stdout


@dataclass
class Row:
    """One workload: Loom's and the competitor's attempts, and the target it must meet."""

    name: str
    target_ratio: float
    max_loom_s: float | None = None
    note: str = ""
    loom: list[Outcome] = field(default_factory=list)
    peer: list[Outcome] = field(default_factory=list)

    @staticmethod
    def _median(outcomes: list[Outcome]) -> float | None:
        good = [o.seconds for o in outcomes if o.ok and o.seconds is not None]
        return statistics.median(good) if good else None

    @staticmethod
    def _first_error(outcomes: list[Outcome]) -> str | None:
        return next((o.error for o in outcomes if not o.ok), None)

    @property
    def loom_s(self) -> float | None:
        return self._median(self.loom)

    @property
    def peer_s(self) -> float | None:
        return self._median(self.peer)

    @property
    def ratio(self) -> float | None:
        if self.loom_s and self.peer_s:
            return self.peer_s / self.loom_s
        return None

    def met(self) -> str:
        if not self.target_ratio:
            if self.max_loom_s is None:
                return "—"
            if self.loom_s is None:
                return "n/a"
            return "yes" if self.loom_s < self.max_loom_s else "**no**"
        if self.ratio is None:
            return "n/a"
        ok = self.ratio >= self.target_ratio
        if self.max_loom_s is not None:
            ok = ok and self.loom_s is not None and self.loom_s < self.max_loom_s
        return "yes" if ok else "**no**"

    def target(self) -> str:
        parts = [f"≥ {self.target_ratio:g}×"] if self.target_ratio else []
        if self.max_loom_s is not None:
            parts.append(f"Loom < {fmt_s(self.max_loom_s)}")
        return ", ".join(parts) or "—"

    def cell(self, which: str) -> str:
        outcomes = self.loom if which == "loom" else self.peer
        value = self._median(outcomes)
        if value is None:
            err = self._first_error(outcomes)
            return f"n/a (error: {clean(err)})" if err else "not run"
        runs = sum(1 for o in outcomes if o.ok)
        return fmt_s(value) + (f" (n={runs})" if runs != 1 else "")


def save_raw(rows: dict[str, Row], peer: str, name: str) -> None:
    """Every attempt (seconds or error) as JSON in benchmarks/.work/, for a closer look."""
    raw = {
        key: {
            "loom": [o.seconds or o.error for o in r.loom],
            peer: [o.seconds or o.error for o in r.peer],
        }
        for key, r in rows.items()
    }
    (WORK / name).write_text(json.dumps(raw, indent=1))


def clean(text: str | None) -> str:
    """Make an error message safe inside a markdown table cell."""
    text = (text or "").replace("|", "/").replace("\n", " ")
    return text[:160]


def fmt_s(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.1f}×"


def table(rows: list[Row], peer: str) -> str:
    """The results as a markdown table."""
    head = f"| workload | Loom | {peer} | ratio ({peer} / Loom) | target | met? |"
    lines = [head, "|---|---|---|---|---|---|"]
    for r in rows:
        name = r.name + (f" ({r.note})" if r.note else "")
        lines.append(
            f"| {name} | {r.cell('loom')} | {r.cell('peer')} | {fmt_ratio(r.ratio)} "
            f"| {r.target()} | {r.met()} |"
        )
    return "\n".join(lines)


def print_summary(rows: list[Row], peer: str) -> None:
    print(f"\n{'workload':44} {'Loom':>12} {peer:>12} {'ratio':>8}  target / met")
    for r in rows:
        loom = fmt_s(r.loom_s) if r.loom_s else "n/a"
        other = fmt_s(r.peer_s) if r.peer_s else "n/a"
        print(f"{r.name:44} {loom:>12} {other:>12} {fmt_ratio(r.ratio):>8}  {r.target()} {r.met()}")
        for label, outs in (("loom", r.loom), (peer, r.peer)):
            err = Row._first_error(outs)
            if err:
                print(f"{'':6}{label} error: {err}")


LOADED_NOTE = (
    "- **taken on a loaded machine**: other engineers' test suites shared these 2 cores, so"
    " absolute times are inflated and noisy; the ratios (one run, interleaved) are the signal"
)


def machine_info(versions: dict[str, str], loaded: bool | None = None) -> str:
    """Date, machine and versions, as markdown bullet lines. ``loaded``: whether others
    shared the machine (default: the load average now, which a benchmark that runs many
    clients raises itself)."""
    mem_kib = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    vers = ", ".join(f"{k} {v}" for k, v in versions.items())
    return "\n".join(
        [
            f"- date: {now}",
            f"- machine: {os.cpu_count()} CPUs (nproc), {mem_kib / 1024**2:.1f} GiB memory, "
            f"Linux {platform.release()}, Python {platform.python_version()}",
            f"- versions: {vers}",
            f"- load average when the table was written (1, 5, 15 min): {load}",
        ]
        + [LOADED_NOTE] * (os.getloadavg()[0] >= 1.0 if loaded is None else loaded)
    )


def loom_version() -> str:
    """Loom's version plus the git commit it was measured at."""
    out = subprocess.run(
        [str(LOOM_PY), "-c", "import loom; print(loom.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no", "--", "src"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Loom runs from the working tree (an editable install): say when it held uncommitted code.
    state = " + uncommitted changes in src/" if dirty else ""
    return f"{out or '?'} (working tree at commit {commit.stdout.strip() or '?'}{state})"


def write_section(name: str, body: str) -> None:
    """Replace the text between this benchmark's markers in docs/benchmarks.md."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text and end in text:
        before = text.split(start)[0]
        after = text.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
    log(f"wrote {DOC.relative_to(ROOT)} section {name!r}")


def interleaved(reps: int, tools: Sequence[str]) -> list[tuple[int, str]]:
    """Repetition order that alternates which tool goes first."""
    order = []
    for rep in range(reps):
        seq = list(tools) if rep % 2 == 0 else list(reversed(tools))
        order.extend((rep, t) for t in seq)
    return order
