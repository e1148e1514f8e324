"""What a run records about where it ran: git state, command, platform, packages, hardware.

``process_tags()`` is cheap and runs at ``start_run`` (the host and pid are what
``mark-stale`` needs even if the process dies a millisecond later);
``slow_capture()`` shells out to git and walks installed packages, so the
client runs it on a background thread. Per-process facts are cached.

    >>> "loom.pid" in process_tags()
    True
"""

from __future__ import annotations

import functools
import getpass
import os
import platform
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass, field


@dataclass
class Captured:
    tags: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # artifact path -> bytes


def process_start_ticks(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks since boot (Linux); tells a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


@functools.cache
def _user(pid: int) -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def current_user() -> str:
    """The login name (looked up once per process, not at every run)."""
    return _user(os.getpid())


def process_tags() -> dict[str, str]:
    """Host, pid, command and user of this process: a fresh dict each call."""
    return dict(_process_tags(os.getpid(), tuple(sys.argv)))


@functools.lru_cache(maxsize=4)
def _process_tags(pid: int, argv: tuple[str, ...]) -> dict[str, str]:
    tags = {
        "loom.host": socket.gethostname(),
        "loom.pid": str(pid),
        "loom.source.command": shlex.join(argv) if argv else sys.executable,
        "mlflow.source.name": argv[0] if argv and argv[0] else "<stdin>",
        "mlflow.user": current_user(),
    }
    start = process_start_ticks(pid)
    if start is not None:
        tags["loom.pid_start"] = start
    return tags


@functools.cache
def machine_tags() -> dict[str, str]:
    tags = {
        "loom.python.version": platform.python_version(),
        "loom.python.executable": sys.executable,
        "loom.platform": platform.platform(),
        "loom.cpu.count": str(os.cpu_count() or 0),
    }
    mem = total_memory_bytes()
    if mem:
        tags["loom.memory.total_mb"] = str(mem // (1024 * 1024))
    tags.update(gpu_tags())
    return tags


def total_memory_bytes() -> int | None:
    info = meminfo()
    if "MemTotal" in info:
        return info["MemTotal"]
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def meminfo() -> dict[str, int]:
    """/proc/meminfo in bytes (empty off Linux)."""
    out: dict[str, int] = {}
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                name, _, rest = line.partition(":")
                parts = rest.split()
                if parts and parts[0].isdigit():
                    out[name] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    except OSError:
        pass
    return out


def gpu_tags() -> dict[str, str]:
    """GPU model and driver through NVML, only when ``pynvml`` is importable."""
    nvml = nvml_handle()
    if nvml is None:
        return {}
    try:
        count = nvml.nvmlDeviceGetCount()
        tags = {
            "loom.gpu.count": str(count),
            "loom.gpu.driver": _text(nvml.nvmlSystemGetDriverVersion()),
        }
        if count:
            tags["loom.gpu.name"] = _text(
                nvml.nvmlDeviceGetName(nvml.nvmlDeviceGetHandleByIndex(0))
            )
        return tags
    except Exception:  # NVML present but no usable driver: record nothing rather than fail
        return {}


@functools.cache
def nvml_handle():
    try:
        import pynvml  # optional: installed only where there is a GPU
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # library without a driver
        return None
    return pynvml


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


@functools.cache
def requirements_txt() -> bytes:
    """Installed distributions as ``name==version`` lines, from importlib.metadata."""
    from importlib import metadata

    seen: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")  # type: ignore[attr-defined]  # an email.Message
        if name and name.lower() not in seen:
            seen[name.lower()] = f"{name}=={dist.version}"
    return ("\n".join(sorted(seen.values(), key=str.lower)) + "\n").encode()


def _git(*args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(["git", *args], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def git_capture() -> Captured:
    """Commit, branch, dirty flag and ``git diff HEAD`` of the repo around cwd."""
    out = Captured()
    top = _git("rev-parse", "--show-toplevel")
    if top is None or top.returncode != 0:
        return out
    out.tags["loom.git.root"] = top.stdout.decode().strip()
    branch = _git("rev-parse", "--abbrev-ref", "HEAD")
    if branch is not None and branch.returncode == 0:
        name = branch.stdout.decode().strip()
        out.tags["loom.git.branch"] = out.tags["mlflow.source.git.branch"] = name
    head = _git("rev-parse", "--verify", "-q", "HEAD")
    if head is None or head.returncode != 0:
        return out  # a repository without commits has no HEAD to diff against
    commit = head.stdout.decode().strip()
    out.tags["loom.git.commit"] = out.tags["mlflow.source.git.commit"] = commit
    diff = _git("diff", "HEAD", "--binary")
    dirty = diff is not None and diff.returncode == 0 and bool(diff.stdout)
    out.tags["loom.git.dirty"] = "true" if dirty else "false"
    if dirty and diff is not None:
        out.files["loom/git.diff"] = diff.stdout
    return out


_CACHE: dict[tuple[int, str], Captured] = {}


def cached_capture() -> Captured | None:
    """What ``slow_capture`` found earlier in this process and directory, if anything."""
    return _CACHE.get(_cache_key())


def _cache_key() -> tuple[int, str]:
    try:
        return os.getpid(), os.getcwd()
    except OSError:  # cwd deleted
        return os.getpid(), ""


def slow_capture() -> Captured:
    """Git state, machine facts and packages; cached for later runs of this process."""
    out = git_capture()
    out.tags.update(machine_tags())
    out.files["loom/requirements.txt"] = requirements_txt()
    _CACHE[_cache_key()] = out
    return out
