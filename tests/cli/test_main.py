from __future__ import annotations

import os
import subprocess
import sys

from loom import __version__


def _loom(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loom", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_version_and_help() -> None:
    out = _loom("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"loom {__version__}"
    assert "Usage" in _loom("--help").stdout


def test_unknown_command_is_a_usage_error_without_traceback() -> None:
    out = _loom("frobnicate")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "frobnicate" in out.stderr
