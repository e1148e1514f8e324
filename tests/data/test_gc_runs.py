"""`loom gc` keeps run artifacts whatever store the runs went to and whatever URI gc runs with.

Real processes log runs (PostgreSQL, or SQLite outside the workspace) from a workspace;
`loom gc --workspace --grace 0` then runs as a separate process with no tracking URI or with
another one, and every artifact must still download byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loom.objects.hashing import hash_bytes
from tests.tracking.conftest import fresh_pg_schema

from .conftest import write

LOG_RUNS = """
import json, pathlib
import loom
loom.set_experiment("trial")
ids = []
for i in range(2):  # the second run of a process gets its environment files at create_run
    with loom.start_run() as run:
        loom.log_artifact("model.bin")
        loom.log_artifacts("reports", artifact_path="reports")
        pathlib.Path("notes.txt").write_text(f"run {i}\\n")
        loom.log_artifact("notes.txt")
    ids.append(run.run_id)
print(json.dumps(ids))
"""


@pytest.fixture
def pg_uri(pg_url: str) -> Iterator[str]:
    yield from fresh_pg_schema(pg_url)


def _env(**extra: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOM_")}
    env["LOOM_CAPTURE_ENV"] = "1"
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def _loom(cwd: Path, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loom", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(**env),
    )


def _log_runs(ws_root: Path, **env: str) -> list[str]:
    write(ws_root / "model.bin", os.urandom(200_000))  # loose: over the pack threshold
    write(ws_root / "reports" / "a.txt", "recall 0.9\n")
    write(ws_root / "reports" / "deep" / "b.txt", "precision 0.8\n")
    proc = subprocess.run(
        [sys.executable, "-c", LOG_RUNS],
        cwd=ws_root,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(**env),
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _expected(ws_root: Path, i: int) -> dict[str, bytes]:
    return {
        "model.bin": (ws_root / "model.bin").read_bytes(),
        "reports/a.txt": b"recall 0.9\n",
        "reports/deep/b.txt": b"precision 0.8\n",
        "notes.txt": f"run {i}\n".encode(),
    }


def _download(ws_root: Path, run_id: str, dst: Path, **env: str) -> dict[str, bytes]:
    r = _loom(ws_root, "runs", "artifacts", run_id, "--download", str(dst), **env)
    assert r.returncode == 0, r.stdout + r.stderr
    return {
        p.relative_to(dst).as_posix(): p.read_bytes()
        for p in sorted(dst.rglob("*"))
        if p.is_file() and not p.relative_to(dst).as_posix().startswith("loom/")
    }


def _gc_everywhere(ws_root: Path, tmp_path: Path) -> None:
    """gc with no tracking URI, then with an unrelated SQLite store, each a real process."""
    other = f"sqlite:///{tmp_path / 'other' / 'loom.db'}"
    for uri in (None, other):
        r = _loom(ws_root, "gc", "--workspace", "--grace", "0", "--json", LOOM_TRACKING_URI=uri)
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert report["run_objects"] >= 5  # model, two reports, two notes (+ env files)


def test_gc_keeps_artifacts_of_runs_logged_to_postgres(ws, pg_uri: str, tmp_path: Path) -> None:
    ids = _log_runs(ws.root, LOOM_TRACKING_URI=pg_uri)
    write(ws.root / "junk.bin", b"nobody needs this")
    assert _loom(ws.root, "add", "junk.bin").returncode == 0
    os.remove(ws.root / "junk.bin.loom")
    junk = hash_bytes(b"nobody needs this")
    assert ws.odb.exists(junk)

    _gc_everywhere(ws.root, tmp_path)

    assert not ws.odb.exists(junk)  # gc did run and remove what nothing references
    for i, run_id in enumerate(ids):
        got = _download(ws.root, run_id, tmp_path / f"dl{i}", LOOM_TRACKING_URI=pg_uri)
        assert got == _expected(ws.root, i)
    env_files = {a for a in os.listdir(tmp_path / "dl1" / "loom")}
    assert "requirements.txt" in env_files  # environment artifacts are kept as well


def test_gc_keeps_artifacts_of_a_sqlite_store_outside_the_workspace(ws, tmp_path: Path) -> None:
    # The store lives elsewhere; its artifacts were put in this workspace's cache.
    store = f"sqlite:///{tmp_path / 'elsewhere' / 'loom.db'}"
    cache = str(ws.odb.root)
    ids = _log_runs(ws.root, LOOM_TRACKING_URI=store, LOOM_ARTIFACT_ROOT=cache)
    assert ws.odb.refs.names("runs") == sorted(ids)

    _gc_everywhere(ws.root, tmp_path)

    for i, run_id in enumerate(ids):
        got = _download(
            ws.root, run_id, tmp_path / f"dl{i}", LOOM_TRACKING_URI=store, LOOM_ARTIFACT_ROOT=cache
        )
        assert got == _expected(ws.root, i)


def test_a_torn_refs_line_is_ignored(ws, tmp_path: Path) -> None:
    [run_id, _] = _log_runs(ws.root)  # the workspace's own store
    ref = ws.odb.refs.path("runs", run_id)
    with open(ref, "ab") as f:
        f.write(b"0123abcd")  # a write cut short
    r = _loom(ws.root, "gc", "--workspace", "--grace", "0")
    assert r.returncode == 0, r.stderr
    assert "for tracked runs" in r.stdout
    assert _download(ws.root, run_id, tmp_path / "dl") == _expected(ws.root, 0)


def test_caches_from_before_refs_are_backfilled(ws, pg_uri: str, tmp_path: Path) -> None:
    [old, _] = _log_runs(ws.root, LOOM_TRACKING_URI=pg_uri)
    shutil.rmtree(ws.odb.refs.root)  # as a cache written before refs existed
    # The next backend that writes to the cache for that store backfills first.
    write(ws.root / "x.txt", "x")
    script = "import loom\nwith loom.start_run() as r:\n    loom.log_artifact('x.txt')\n"
    new = subprocess.run(
        [sys.executable, "-c", script + "print(r.run_id)"],
        cwd=ws.root,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(LOOM_TRACKING_URI=pg_uri, LOOM_CAPTURE_ENV="0"),
    )
    assert new.returncode == 0, new.stderr
    assert ws.odb.refs.names("runs") == [new.stdout.strip()]
    assert ws.odb.refs.names("stores")

    r = _loom(ws.root, "gc", "--workspace", "--grace", "0")  # no URI: only refs can tell
    assert r.returncode == 0, r.stderr

    got = _download(ws.root, old, tmp_path / "dl", LOOM_TRACKING_URI=pg_uri)
    assert got == _expected(ws.root, 0)


def test_upgrading_keeps_old_runs_of_the_workspace_store(ws, tmp_path: Path) -> None:
    # Runs logged to the workspace's own store by a Loom without refs: gc backfills first.
    [old, _] = _log_runs(ws.root)
    shutil.rmtree(ws.odb.refs.root)
    r = _loom(ws.root, "gc", "--workspace", "--grace", "0")
    assert r.returncode == 0, r.stderr
    assert ws.odb.refs.names("stores") and not ws.odb.refs.names("runs")
    assert _download(ws.root, old, tmp_path / "dl") == _expected(ws.root, 0)
