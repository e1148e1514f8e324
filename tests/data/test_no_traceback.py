"""Hostile file systems and names: one clear error with a hint, exit 1, nothing half-written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from loom.data.add import add
from loom.data.pointer import load
from loom.data.remotes import add_remote
from loom.data.sync import push
from loom.data.workspace import Workspace, init
from loom.errors import ConflictError

from .conftest import commit, git, loom_run, make_dataset, snapshot, write


def _refused(r, says: str) -> None:
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    assert says in r.stderr and "Hint:" in r.stderr, r.stderr


def _mine(files: dict[str, bytes]) -> dict[str, bytes]:
    """The user's files: Loom's lock and state index may change on a refused command."""
    return {k: v for k, v in files.items() if not k.startswith((".loom/lock", ".loom/state"))}


class _DeleteOn:
    """Progress that deletes a file when a given task starts: the file vanishes while add
    runs, between listing the folder and reading (or storing) that file, every time."""

    def __init__(self, task: str, victim: str) -> None:
        self.when, self.victim = task, victim

    def task(self, what: str, total: int | None):
        if what.startswith(self.when) and os.path.exists(self.victim):
            os.remove(self.victim)
        return lambda n: None


@pytest.mark.parametrize(
    "when, victim",
    [("Hashing", "data/part-003.csv"), ("Storing", "data/big-1.bin")],
)
def test_a_file_deleted_while_add_runs(ws, when, victim):
    make_dataset("data", n=10)
    for i in range(3):
        write(f"data/big-{i}.bin", bytes([i]) * 100_000)  # stored after hashing
    with pytest.raises(ConflictError) as err:
        add(ws, ["data"], progress=_DeleteOn(when, victim))
    assert victim in err.value.message and "removed while" in err.value.message
    assert "loom add data" in err.value.hint
    assert not Path("data.loom").exists()  # nothing half-written
    assert add(ws, ["data"])[0].files == 12  # and the next add works


def test_a_fifo_is_refused_not_waited_on(ws):
    os.mkfifo("pipe")
    r = loom_run("add", "pipe", cwd=ws.root, timeout=30)
    _refused(r, "not a regular file or folder")


def test_a_name_too_long_for_its_pointer_is_refused_before_anything_is_written(ws):
    name = "n" * 247 + ".csv"  # 251 bytes: its pointer would be 256
    write(name, "x")
    before = snapshot(ws.root)
    r = loom_run("add", name, cwd=ws.root)
    _refused(r, "can't have a pointer file")
    assert "250 bytes" in r.stderr
    assert _mine(snapshot(ws.root)) == _mine(before)
    assert not (ws.odb.root / "blake3").exists()


def test_a_250_byte_name_works_everywhere(ws, tmp_path):
    name = "n" * 246 + ".csv"
    write(name, "x" * 10)
    add_remote(ws, "storage", str(tmp_path / "remote"), default=True)
    for args in (["add", name], ["status"], ["push"]):
        r = loom_run(*args, cwd=ws.root)
        assert r.returncode == 0, r.stderr
    os.remove(name)
    assert loom_run("checkout", name, cwd=ws.root).returncode == 0
    assert Path(name).read_text() == "x" * 10
    commit("v1")
    _pull_in_a_clone(ws, tmp_path, name)


def test_255_byte_names_inside_folders(ws, tmp_path):
    inner = "i" * 251 + ".csv"  # the most a name may have; temp names must not add to it
    deep = "d" * 255
    write(f"data/{inner}", "a")
    write(f"data/{deep}/{inner}", "b")
    add_remote(ws, "storage", str(tmp_path / "remote"), default=True)
    assert loom_run("add", "data", cwd=ws.root).returncode == 0
    assert loom_run("push", cwd=ws.root).returncode == 0
    shutil.rmtree("data")
    r = loom_run("checkout", cwd=ws.root)
    assert r.returncode == 0, r.stderr
    assert Path(f"data/{deep}/{inner}").read_text() == "b"
    write(f"data/{inner}", "changed")
    assert loom_run("checkout", "-f", f"data/{inner}", cwd=ws.root).returncode == 0
    assert Path(f"data/{inner}").read_text() == "a"
    commit("v1")
    _pull_in_a_clone(ws, tmp_path, f"data/{deep}/{inner}")


def _pull_in_a_clone(ws, tmp_path: Path, rel: str) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(ws.root), str(clone))
    r = loom_run("pull", cwd=clone)
    assert r.returncode == 0, r.stderr
    assert (clone / rel).read_bytes() == (ws.root / rel).read_bytes()


def test_a_name_that_is_not_utf8_is_refused(ws):
    name = b"caf\xe9.csv"
    with open(os.path.join(os.fsencode(ws.root), name), "wb") as f:
        f.write(b"latin-1 named")
    before = snapshot(ws.root)
    r = subprocess.run(
        [sys.executable, "-m", "loom", "add", name], cwd=ws.root, capture_output=True, text=True
    )
    _refused(r, "not valid UTF-8")
    assert "caf\\xe9.csv" in r.stderr
    assert _mine(snapshot(ws.root)) == _mine(before)


@pytest.fixture
def shared_dir():
    """A folder outside pytest's (root-only) temp tree, so another user can reach it."""
    path = Path(tempfile.mkdtemp(prefix="loom-ro-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_a_cache_the_user_cannot_write(shared_dir, monkeypatch):
    """As root a chmod stops nobody, so the command runs as an unprivileged user."""
    root = shared_dir / "repo"
    root.mkdir()
    git("init", "-q", cwd=root)
    monkeypatch.chdir(root)
    ws = init(root)
    make_dataset("data", n=3)
    write("model.bin", b"m")
    add(ws, ["data", "model.bin"])
    add_remote(ws, "storage", str(shared_dir / "remote"), default=True)
    push(ws)
    ws.odb.remove(_hash(ws, "model.bin"))  # so fetch and pull must write to the cache
    write("new.csv", "new data")
    cache = Workspace(root).odb.root
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv is needed to drop root")
        for path in [root, *root.rglob("*")]:
            os.lchown(path, 65534, 65534)
        for path in [cache, *cache.rglob("*")]:  # the cache stays root's, 0755 / 0444
            os.lchown(path, 0, 0)
        user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    else:
        user = []
        for path in [cache, *cache.rglob("*")]:
            if path.is_dir():
                path.chmod(0o555)
    env = {**os.environ, "HOME": str(root)}
    for args in (["add", "new.csv"], ["fetch"], ["pull"]):
        cmd = [*user, sys.executable, "-m", "loom", *args]
        r = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env, timeout=60)
        _refused(r, "Cannot write to the cache")
        assert ".loom/cache/" in r.stderr and "loomtmp" not in r.stderr
        assert str(cache) in r.stderr
    assert not (root / "new.csv.loom").exists()
    if os.geteuid() != 0:
        for path in [cache, *cache.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)


def _hash(ws, rel: str) -> str:
    return load(ws.root, rel + ".loom").hash
