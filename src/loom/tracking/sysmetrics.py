"""A sampler thread for ``log_system_metrics=True``: CPU, memory and GPU use as metrics.

Names follow MLflow's (``system/cpu_utilization_percentage`` …) so dashboards
built for one read the other. psutil and pynvml are used only if importable;
without psutil, CPU use comes from /proc/stat deltas.

    >>> s = SystemSampler(lambda key, value, step: None, interval=5.0)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from loom.tracking.env import meminfo, nvml_handle

Log = Callable[[str, float, int], None]


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies across all CPUs from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


class SystemSampler:
    def __init__(self, log: Log, interval: float) -> None:
        self._log = log
        self.interval = interval
        self._stop = threading.Event()
        self._last = _cpu_times()
        self._thread = threading.Thread(target=self._loop, name="loom-sysmetrics", daemon=True)

    def start(self) -> SystemSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        step = 0
        while not self._stop.wait(self.interval):
            for key, value in self.sample().items():
                self._log(key, value, step)
            step += 1

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        cpu = self._cpu_percent()
        if cpu is not None:
            out["system/cpu_utilization_percentage"] = cpu
        info = meminfo()
        if "MemTotal" in info and "MemAvailable" in info:
            used = info["MemTotal"] - info["MemAvailable"]
            out["system/system_memory_usage_megabytes"] = used / 2**20
            out["system/system_memory_usage_percentage"] = 100.0 * used / info["MemTotal"]
        out.update(_gpu_sample())
        return out

    def _cpu_percent(self) -> float | None:
        now = _cpu_times()
        if now is None or self._last is None:
            try:
                load = os.getloadavg()[0]
            except (OSError, AttributeError):
                return None
            return min(100.0, 100.0 * load / (os.cpu_count() or 1))
        busy, total = now[0] - self._last[0], now[1] - self._last[1]
        self._last = now
        return 100.0 * busy / total if total > 0 else 0.0


def _gpu_sample() -> dict[str, float]:
    nvml = nvml_handle()
    if nvml is None:
        return {}
    out: dict[str, float] = {}
    try:
        for i in range(nvml.nvmlDeviceGetCount()):
            h = nvml.nvmlDeviceGetHandleByIndex(i)
            util = nvml.nvmlDeviceGetUtilizationRates(h)
            mem = nvml.nvmlDeviceGetMemoryInfo(h)
            out[f"system/gpu_{i}_utilization_percentage"] = float(util.gpu)
            out[f"system/gpu_{i}_memory_usage_megabytes"] = mem.used / 2**20
    except Exception:  # a GPU that vanished mid-run must not kill the sampler
        return out
    return out
