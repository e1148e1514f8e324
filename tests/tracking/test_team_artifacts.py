"""Run artifacts for a team: `loom push` sends them, a clone's download fetches them.

Two clones of one git repo share a PostgreSQL store and a local-folder remote named in the
committed config; each has its own cache. Everything runs as real processes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loom.errors import MissingObjectError
from loom.store.entities import Artifact
from tests.data.conftest import corrupt_object

SCRIPT = """
import loom
with loom.start_run() as run:
    loom.log_artifact("model.bin")
    loom.log_artifacts("reports", artifact_path="reports")
print(run.run_id)
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOM_")}
    env["LOOM_CAPTURE_ENV"] = "0"
    return {**env, **extra}


def _run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=cwd, capture_output=True, text=True, timeout=120, env=_env(**env)
    )


def _loom(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _run(cwd, sys.executable, "-m", "loom", *args, **env)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def team(git_repo: Path, tmp_path: Path, pg_store_uri: str):
    """W (with a committed default remote) has logged one run to PostgreSQL; W2 is its clone."""
    w = git_repo
    remote = tmp_path / "remote"
    assert _loom(w, "init").returncode == 0
    assert _loom(w, "remote", "add", "-d", "storage", str(remote)).returncode == 0
    _run(w, "git", "add", ".loom")
    assert _run(w, "git", "commit", "-qm", "loom").returncode == 0
    (w / "model.bin").write_bytes(os.urandom(300_000))
    (w / "reports" / "deep").mkdir(parents=True)
    for i in range(12):  # enough small files to travel in a pack
        (w / "reports" / f"r{i}.txt").write_text(f"report {i}\n")
    (w / "reports" / "deep" / "z.txt").write_text("deep\n")
    logged = _run(w, sys.executable, "-c", SCRIPT, LOOM_TRACKING_URI=pg_store_uri)
    assert logged.returncode == 0, logged.stderr
    run_id = logged.stdout.strip()
    w2 = tmp_path / "w2"
    assert _run(tmp_path, "git", "clone", "-q", str(w), str(w2)).returncode == 0
    expected = {"model.bin": (w / "model.bin").read_bytes()}
    expected.update({f"reports/{k}": v for k, v in _files(w / "reports").items()})
    return w, w2, run_id, expected, pg_store_uri


def test_a_clone_downloads_artifacts_after_push_and_gets_a_clear_error_before(team, tmp_path):
    w, w2, run_id, expected, uri = team
    out = w2 / "out" / "nested"

    before = _loom(w2, "runs", "artifacts", run_id, "--download", str(out), LOOM_TRACKING_URI=uri)
    assert before.returncode == 1
    assert "loom push" in before.stderr and "Traceback" not in before.stderr
    assert "not on remote" in before.stderr or "lacks them" in before.stderr
    assert not (w2 / "out").exists()  # nothing left behind, not even the parent folder

    pushed = _loom(w, "push", "--json")
    assert pushed.returncode == 0, pushed.stderr
    # the files, and the listing of the reports folder (the run's output names it)
    assert json.loads(pushed.stdout)["artifacts"] == len(set(expected.values())) + 1
    human = _loom(w, "push")  # a second push: all there already, still reported
    assert "Run artifacts: 15 object(s)" in human.stdout

    after = _loom(w2, "runs", "artifacts", run_id, "--download", str(out), LOOM_TRACKING_URI=uri)
    assert after.returncode == 0, after.stderr
    assert _files(out) == expected
    # W2's own cache now holds them (fetched and verified), so gc there is harmless too
    assert _loom(w2, "gc", "--workspace", "--grace", "0").returncode == 0
    again = w2 / "again"
    assert _loom(w2, "runs", "artifacts", run_id, "--download", str(again),
                 "--path", "reports/deep", LOOM_TRACKING_URI=uri).returncode == 0  # fmt: skip
    assert _files(again) == {"reports/deep/z.txt": b"deep\n"}


def test_no_workspace_or_no_remote_says_to_push(team, tmp_path):
    _, w2, run_id, _, uri = team
    outside = tmp_path / "outside"
    outside.mkdir()
    r = _loom(outside, "runs", "artifacts", run_id, "--download", "dl", LOOM_TRACKING_URI=uri)
    assert r.returncode == 1 and "loom push" in r.stderr and "Traceback" not in r.stderr
    assert not (outside / "dl").exists()
    assert _loom(w2, "remote", "remove", "storage").returncode == 0
    r = _loom(w2, "runs", "artifacts", run_id, "--download", "dl", LOOM_TRACKING_URI=uri)
    assert r.returncode == 1 and "loom push" in r.stderr and "No remote" in r.stderr
    assert not (w2 / "dl").exists()


def test_a_failed_write_removes_what_the_download_created(tmp_path, monkeypatch):
    from loom.tracking.client import Client

    monkeypatch.chdir(tmp_path)
    with Client(f"sqlite:///{tmp_path / 'store' / 'loom.db'}") as c:
        run = c.create_run("0", capture_env=False)
        src = tmp_path / "src"
        (src / "a").mkdir(parents=True)
        (src / "a" / "one.txt").write_text("one\n")
        (src / "b.bin").write_bytes(os.urandom(100_000))
        arts = c.log_artifacts(run.run_id, src)
        bad = next(a for a in arts if a.path == "b.bin")
        corrupt_object(c.backend.odb, bad.hash)
        (tmp_path / "keep").mkdir()
        (tmp_path / "keep" / "mine.txt").write_text("mine")
        with pytest.raises(Exception) as info:  # CorruptObjectError: b.bin comes after a/one.txt
            c.download_artifacts(run.run_id, "", tmp_path / "keep" / "new" / "dl")
        assert "Corrupt" in str(info.value)
        assert _files(tmp_path / "keep") == {"mine.txt": b"mine"}
        assert not (tmp_path / "keep" / "new").exists()


def test_refs_are_written_before_rows_and_backfilled_once_per_store(tmp_path, monkeypatch):
    from loom.errors import FilesystemError
    from loom.tracking.backend import LocalBackend

    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'store' / 'loom.db'}"
    b = LocalBackend(uri)
    eid = b.create_experiment("e").experiment_id
    oid, size = b.put_bytes(b"env file")
    run = b.create_run(eid, artifacts=[Artifact("loom/req.txt", oid, size)])
    assert b.odb.refs.read("runs", run.run_id) == [oid]
    # A row whose ref can't be written is never written: the ref comes first.
    other = b.create_run(eid)
    (b.odb.refs.root / "runs" / other.run_id).mkdir()  # no file can be appended there
    oid2, size2 = b.put_bytes(b"second")
    with pytest.raises(FilesystemError):
        b.log_artifacts(other.run_id, [Artifact("x.txt", oid2, size2)])
    assert b.list_artifacts(other.run_id) == []
    b.store.log_artifacts(run.run_id, [Artifact("old.txt", oid2, size2)])  # as an old Loom did
    b.close()
    # A new backend finds this store's marker: no second backfill, old.txt stays unref'd.
    b2 = LocalBackend(uri)
    assert oid2 not in b2.odb.refs.oids()
    b2.close()
    # Without refs (a cache from before them), the first backend to use the cache backfills.
    shutil.rmtree(tmp_path / "store" / "objects" / "refs")
    b3 = LocalBackend(uri)
    assert {oid, oid2} <= b3.odb.refs.oids("stores")
    b3.close()


def test_download_outside_a_cache_still_names_the_missing_objects(tmp_path, monkeypatch):
    from loom.tracking.client import Client

    monkeypatch.chdir(tmp_path)
    with Client(f"sqlite:///{tmp_path / 'store' / 'loom.db'}") as c:
        run = c.create_run("0", capture_env=False)
        (tmp_path / "f.txt").write_text("x")
        art = c.log_artifact(run.run_id, tmp_path / "f.txt")
        c.backend.odb.remove(art.hash)
        with pytest.raises(MissingObjectError) as info:
            c.download_artifacts(run.run_id, "", tmp_path / "dl")
        assert info.value.fields["oids"] == [art.hash]
        assert "loom push" in (info.value.hint or "")
        assert not (tmp_path / "dl").exists()
