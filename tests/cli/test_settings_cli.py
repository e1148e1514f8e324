"""A wrong setting stops every command with one line naming the file and key — the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loom.data.workspace import init

BAD = [
    ("config.toml", '[gc]\ngrace_seconds = "x"\n', "gc.grace_seconds"),
    ("config.toml", '[tracking]\nflush_interval = "soon"\n', "tracking.flush_interval"),
    ("config.toml", '[cache]\ntype = "teleport"\n', "cache.type"),
    ("config.toml", "[core]\nremote = 5\n", "core.remote"),
    ("config.local.toml", "[core]\njobs = -2\n", "core.jobs"),
    ("config.toml", '[cache]\ntyp = "copy"\n', "cache.typ"),
]


@pytest.mark.parametrize(("name", "text", "key"), BAD, ids=[b[2] for b in BAD])
@pytest.mark.parametrize("command", [["status"], ["checkout"], ["gc", "--workspace", "--dry-run"]])
def test_a_wrong_setting_is_one_clear_error(
    git_repo: Path, name: str, text: str, key: str, command: list[str]
) -> None:
    ws = init(git_repo)
    (ws.loom_dir / name).write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "loom", *command], cwd=git_repo, capture_output=True, text=True
    )
    assert proc.returncode == 1, proc
    assert key in proc.stderr and name in proc.stderr, proc.stderr
    assert "Hint:" in proc.stderr and "Traceback" not in proc.stderr
