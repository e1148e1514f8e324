"""Environment capture in a real git repo, and the system-metrics sampler."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from loom.tracking.client import Client
from tests.conftest import wait_for


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def test_git_state_command_packages_and_hardware(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "train.py").write_text("print('v1')\n")
    _git("add", "train.py")
    _git("commit", "-qm", "v1")
    (git_repo / "train.py").write_text("print('v2')\n")  # uncommitted change
    with Client(f"sqlite:///{tmp_path / 'env.db'}") as c:
        run = c.create_run(c.create_experiment("e").experiment_id, capture_env=True)
        c.set_terminated(run.run_id)  # waits for the background capture
        tags = c.get_run(run.run_id).tags
        assert tags["loom.git.commit"] == _git("rev-parse", "HEAD").strip()
        assert tags["mlflow.source.git.commit"] == tags["loom.git.commit"]
        assert tags["loom.git.branch"] == "main" and tags["loom.git.dirty"] == "true"
        assert tags["loom.python.version"] == ".".join(map(str, sys.version_info[:3]))
        assert int(tags["loom.cpu.count"]) >= 1 and int(tags["loom.memory.total_mb"]) > 0
        assert tags["loom.source.command"] == shlex.join(sys.argv)
        arts = {a.path: a for a in c.list_artifacts(run.run_id)}
        out = c.download_artifacts(run.run_id, "loom", tmp_path / "dl")
        diff = (out / "git.diff").read_text()
        assert "-print('v1')" in diff and "+print('v2')" in diff
        reqs = (out / "requirements.txt").read_text().lower()
        assert "sqlalchemy==" in reqs and "blake3==" in reqs
        assert set(arts) == {"loom/git.diff", "loom/requirements.txt"}


def test_clean_tree_has_no_diff_and_capture_can_be_off(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "a.txt").write_text("a\n")
    _git("add", "a.txt")
    _git("commit", "-qm", "a")
    with Client(f"sqlite:///{tmp_path / 'env.db'}") as c:
        exp = c.create_experiment("e").experiment_id
        clean = c.create_run(exp, capture_env=True)
        c.set_terminated(clean.run_id)
        assert c.get_run(clean.run_id).tags["loom.git.dirty"] == "false"
        assert [a.path for a in c.list_artifacts(clean.run_id)] == ["loom/requirements.txt"]
        off = c.create_run(exp, capture_env=False)
        c.set_terminated(off.run_id)
        tags = c.get_run(off.run_id).tags
        assert "loom.git.commit" not in tags and "loom.pid" in tags
        assert c.list_artifacts(off.run_id) == []


def test_outside_git_nothing_fails(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    with Client(f"sqlite:///{tmp_path / 'env.db'}") as c:
        run = c.create_run(c.create_experiment("e").experiment_id, capture_env=True)
        c.set_terminated(run.run_id)
        tags = c.get_run(run.run_id).tags
        assert "loom.git.commit" not in tags and "loom.platform" in tags


def test_system_metrics_sampler(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LOOM_SYSTEM_METRICS_INTERVAL", "0.05")
    with Client(f"sqlite:///{tmp_path / 'sys.db'}") as c:
        run = c.create_run(c.create_experiment("e").experiment_id, log_system_metrics=True)
        wait_for(
            lambda: len(c.get_metric_history(run.run_id, "system/cpu_utilization_percentage")) >= 2,
            timeout=10,
            what="two CPU samples",
        )
        c.set_terminated(run.run_id)
        metrics = c.get_run(run.run_id).metrics
        assert 0 <= metrics["system/cpu_utilization_percentage"] <= 100
        assert 0 < metrics["system/system_memory_usage_percentage"] <= 100
        done = len(c.get_metric_history(run.run_id, "system/cpu_utilization_percentage"))
        c.flush()
        assert len(c.get_metric_history(run.run_id, "system/cpu_utilization_percentage")) == done
