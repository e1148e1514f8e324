"""The run cache travels with ``loom push`` / ``loom pull``: a clone gets a stage's outs for a
param value it never ran, without running it."""

from __future__ import annotations

import subprocess

import pytest

from .conftest import clear_log, commit, git, ran, write


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def remote(request, tmp_path) -> list[str]:
    """``loom remote add`` arguments: a folder, or a bucket on moto's S3 server."""
    if request.param == "local":
        return [str(tmp_path / "remote")]
    s3 = request.getfixturevalue("s3_env")
    return [f"s3://{s3['bucket']}/loom", "--endpoint-url", s3["endpoint_url"]]


def test_push_then_restore_in_a_clone(project, cli, tmp_path, monkeypatch, remote) -> None:
    root = project.root
    assert cli("remote", "add", "-d", "storage", *remote).code == 0
    params = (root / "params.yaml").read_text()
    write(root / "params.yaml", params.replace("lr: 0.01", "lr: 0.02"))
    assert cli("repro").code == 0
    model_002 = (root / "models/model").read_text()
    write(root / "params.yaml", params)
    assert cli("repro").code == 0  # back to 0.01: from the run cache
    commit("lr 0.01, locked")
    r = cli("push")
    assert r.code == 0, r.err
    assert "Run cache: " in r.out and "entries pushed" in r.out

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
    monkeypatch.chdir(clone)
    r = cli("pull")
    assert r.code == 0, r.err
    assert "entries pulled" in r.out
    assert not (clone / "models/model").exists()  # outs are not in git

    write(clone / "params.yaml", params.replace("lr: 0.01", "lr: 0.02"))
    clear_log(clone)
    r = cli("repro")
    assert r.code == 0, r.err
    assert (
        ran(clone) == []
    )  # nothing ran: prepare's outs from the cache, train's from the run cache
    assert "prepare: out data/processed missing; outs restored from the run cache" in r.out
    assert "train: param train.lr changed (0.01 -> 0.02); outs restored from the run cache" in r.out
    assert (clone / "models/model").read_text() == model_002
    assert sorted(p.name for p in (clone / "data/processed").iterdir()) == sorted(
        p.name for p in (root / "data/processed").iterdir()
    )
    # the restored outs are git-ignored; what git shows is the lock, params and metrics
    changed = {line[3:] for line in git("status", "--porcelain", cwd=clone).splitlines()}
    assert {"loom.lock", "params.yaml", "metrics.json"} <= changed
    assert changed <= {
        "loom.lock",
        "params.yaml",
        "metrics.json",
        "eval/val.json",
        "eval/test.json",
    }


def test_gc_keeps_what_the_run_cache_needs(project, cli) -> None:
    root = project.root
    params = (root / "params.yaml").read_text()
    write(root / "params.yaml", params.replace("lr: 0.01", "lr: 0.02"))
    assert cli("repro").code == 0
    write(root / "params.yaml", params)
    assert cli("repro").code == 0
    assert cli("gc", "--workspace", "--grace", "0").code == 0
    write(root / "params.yaml", params.replace("lr: 0.01", "lr: 0.02"))
    clear_log(root)
    r = cli("repro")
    assert r.code == 0, r.err
    assert ran(root) == [] and "lr=0.02" in (root / "models/model").read_text()
