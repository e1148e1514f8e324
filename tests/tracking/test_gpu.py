"""GPU facts and GPU system metrics through NVML: real hardware only, never faked.

These run where an NVIDIA GPU and ``pynvml`` are present (a lent GPU machine);
on CI and laptops without one they skip and say why.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from loom.tracking import env, sysmetrics


def _nvidia_gpu_names() -> list[str]:
    if shutil.which("nvidia-smi") is None:
        return []
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
        capture_output=True,
        text=True,
    )
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


GPUS = _nvidia_gpu_names()
pytestmark = pytest.mark.skipif(
    not GPUS or env.nvml_handle() is None,
    reason="needs an NVIDIA GPU with its driver and the pynvml package (none on this machine)",
)


def test_environment_names_the_gpu_and_driver() -> None:
    tags = env.gpu_tags()
    assert tags["loom.gpu.count"] == str(len(GPUS))
    assert tags["loom.gpu.name"] == GPUS[0]
    assert tags["loom.gpu.driver"]


def test_system_metrics_sample_gpu_use() -> None:
    sample = sysmetrics._gpu_sample()
    assert 0.0 <= sample["system/gpu_0_utilization_percentage"] <= 100.0
    assert sample["system/gpu_0_memory_usage_megabytes"] > 0
