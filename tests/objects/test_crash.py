"""SIGKILL at several moments of add, push, pull and gc: no torn object, and a re-run finishes.

Each operation runs in a real subprocess (tests/objects/crash_worker.py) that
prints its progress; the test kills it with SIGKILL once progress passes a
mark, then checks every object the store (or remote) admits to having, and
finally runs the same operation again to completion.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from loom.objects import ObjectDB, hash_bytes, open_remote, pull
from tests.conftest import wait_for
from tests.objects.helpers import age, make_files

WORKER = Path(__file__).with_name("crash_worker.py")
N = 2500
KILL_MARKS = (1, N // 3, (2 * N) // 3)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash")
    items = make_files(root / "src", N, seed=7)
    for i in range(4):  # a few loose-sized objects too
        big = root / f"big{i}.bin"
        big.write_bytes(os.urandom(300_000))
        items.append((big, hash_bytes(big.read_bytes()), big.stat().st_size))
    items_file = root / "items.json"
    items_file.write_text(json.dumps([[str(p), o, s] for p, o, s in items]))
    return items_file, [o for _, o, _ in items]


def _start(op: str, cache: Path, remote: Path, items_file: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), op, str(cache), str(remote), str(items_file)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
    )


def _kill_after_progress(proc: subprocess.Popen, mark: int) -> bool:
    """SIGKILL once the worker reports ``mark`` objects done; True if it was still running."""
    done = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "done":
            break
        done += int(line)
        if done >= mark:
            break
    proc.send_signal(signal.SIGKILL)
    return proc.wait() == -signal.SIGKILL


def _run_to_end(op: str, cache: Path, remote: Path, items_file: Path) -> None:
    proc = _start(op, cache, remote, items_file)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.strip().endswith("done"), out[-500:]


def _assert_store_sound(cache: Path) -> ObjectDB:
    odb = ObjectDB(cache)
    assert odb.fsck() == []
    return odb


def _assert_remote_sound(remote: Path, tmp: Path) -> set[str]:
    """Everything the remote admits to having pulls and verifies."""
    r = open_remote(str(remote))
    index, bad = r.load_index()
    assert bad == []
    claimed = set(index) | r.loose_oids()
    probe = tmp / "probe"
    shutil.rmtree(probe, ignore_errors=True)
    pull(ObjectDB(probe), r, claimed)
    return claimed


def test_add_killed_at_any_point(tmp_path, dataset):
    items_file, oids = dataset
    cache = tmp_path / "cache"
    killed = 0
    for mark in KILL_MARKS:
        killed += _kill_after_progress(_start("add", cache, tmp_path / "r", items_file), mark)
        _assert_store_sound(cache)
    assert killed >= 2, "the worker finished before most kills: make the dataset bigger"
    _run_to_end("add", cache, tmp_path / "r", items_file)
    assert _assert_store_sound(cache).missing(oids) == set()


def test_push_killed_at_any_point(tmp_path, dataset):
    items_file, oids = dataset
    cache, remote = tmp_path / "cache", tmp_path / "remote"
    _run_to_end("add", cache, remote, items_file)
    killed = 0
    for mark in KILL_MARKS:
        killed += _kill_after_progress(_start("push", cache, remote, items_file), mark)
        _assert_remote_sound(remote, tmp_path)
    assert killed >= 2
    _run_to_end("push", cache, remote, items_file)
    assert _assert_remote_sound(remote, tmp_path) == set(oids)


def test_pull_killed_at_any_point(tmp_path, dataset):
    items_file, oids = dataset
    source, remote, cache = tmp_path / "source", tmp_path / "remote", tmp_path / "cache"
    _run_to_end("add", source, remote, items_file)
    _run_to_end("push", source, remote, items_file)
    killed = 0
    for mark in KILL_MARKS:
        killed += _kill_after_progress(_start("pull", cache, remote, items_file), mark)
        _assert_store_sound(cache)
    assert killed >= 2
    _run_to_end("pull", cache, remote, items_file)
    assert _assert_store_sound(cache).missing(oids) == set()


def test_gc_killed_at_any_point_keeps_every_kept_object(tmp_path, dataset):
    items_file, oids = dataset
    cache = tmp_path / "cache"
    _run_to_end("add", cache, tmp_path / "r", items_file)
    for p in cache.rglob("*"):
        if p.is_file():
            age(p, 7200)
    keep = set(oids[::2])  # what crash_worker's gc keeps
    packs_dir = cache / "packs"
    killed = 0
    for _ in range(3):
        before = set(os.listdir(packs_dir))
        proc = _start("gc", cache, tmp_path / "r", items_file)
        # kill as soon as gc has changed something on disk: mid-way through its repacks
        wait_for(
            lambda b=before, p=proc: set(os.listdir(packs_dir)) != b or p.poll() is not None,
            timeout=60,
            interval=0.001,
            what="gc to start rewriting packs",
        )
        proc.send_signal(signal.SIGKILL)
        killed += proc.wait() == -signal.SIGKILL
        odb = _assert_store_sound(cache)
        assert odb.missing(keep) == set()
    assert killed >= 1
    _run_to_end("gc", cache, tmp_path / "r", items_file)
    odb = _assert_store_sound(cache)
    assert odb.missing(keep) == set()
    assert odb.missing(set(oids) - keep) == set(oids) - keep
