"""What reaches the CLI is one error line and a hint that fits it, through both entry points.

Each test runs the real command in a fresh interpreter: ``python -m loom`` (typer)
and the console script's fast path (``loom.cli.fast``). Permission errors are
real: the tests run as root, so the command runs as an unprivileged user
(``setpriv``) on a tree that user owns, except for the part it must not write.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import wait_for

FAST = [
    sys.executable,
    "-c",
    "import sys; from loom.cli.fast import main; sys.argv[0] = 'loom'; main()",
]
TYPER = [sys.executable, "-m", "loom"]
ENTRIES = pytest.mark.parametrize("entry", [FAST, TYPER], ids=["fast", "typer"])
NOBODY = 65534


def loom(entry: list[str], *args: str, cwd: Path, env: dict | None = None, user: bool = False):
    argv = [*entry, *args]
    if user and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to run as an unprivileged user")
        argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LOOM_")}
    environ.update(HOME=str(cwd), **(env or {}))
    return subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True, timeout=120)


def one_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stderr.count("Error:") == 1 and "Hint:" in r.stderr, r.stderr
    for needle in needles:
        assert needle in r.stderr, r.stderr
    return r.stderr


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder an unprivileged user can reach (pytest's tmp_path is private to root)."""
    top = Path(tempfile.mkdtemp(prefix="loom-cli-"))
    top.chmod(0o755)
    yield top
    shutil.rmtree(top, ignore_errors=True)


def _give_away(path: Path) -> None:
    """Make ``path`` (recursively) the unprivileged user's, as if they had made it."""
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(path)], check=True)


def _keep_from_user(path: Path, mode: int) -> None:
    """``path`` belongs to root with ``mode``: the unprivileged user can't write (or read) it."""
    if os.geteuid() == 0:
        os.chown(path, 0, 0)
    path.chmod(mode)


@pytest.fixture
def tracked(shared: Path) -> Path:
    """A workspace that tracks data/ (a.csv, b.csv)."""
    ws = shared / "ws"
    ws.mkdir()
    _git("init", "-q", cwd=ws)
    (ws / "data").mkdir()
    (ws / "data" / "a.csv").write_text("id\n1\n")
    (ws / "data" / "b.csv").write_text("id\n2\n")
    assert loom(TYPER, "init", cwd=ws).returncode == 0
    assert loom(TYPER, "add", "data", cwd=ws).returncode == 0
    return ws


@ENTRIES
def test_read_only_local_remote_hints_at_permissions_not_credentials(tracked, shared, entry):
    remote = shared / "remote"
    remote.mkdir()
    _keep_from_user(remote, 0o555)
    assert loom(TYPER, "remote", "add", "-d", "backup", str(remote), cwd=tracked).returncode == 0
    _give_away(tracked)
    r = loom(entry, "push", cwd=tracked, user=True)
    err = one_error(r, "Permission denied", str(remote), "Check the permissions of")
    assert "AWS" not in err and "credentials" not in err
    assert list(remote.iterdir()) == []


@ENTRIES
def test_unreadable_file_in_a_tracked_folder_is_one_line(tracked, entry):
    _give_away(tracked)
    secret = tracked / "data" / "c.csv"
    secret.write_text("id\n3\n")
    _keep_from_user(secret, 0o600)
    r = loom(entry, "add", "data", cwd=tracked, user=True)
    one_error(r, str(secret), "Permission denied", "Check the permissions of")
    secret.unlink()
    changed = tracked / "data" / "a.csv"
    changed.write_text("id\n9\n")  # same size, new bytes: status must read it
    _keep_from_user(changed, 0o600)
    r = loom(entry, "status", cwd=tracked, user=True)
    one_error(r, str(changed), "Permission denied")


@ENTRIES
def test_a_closed_pipe_is_no_error(tracked, entry):
    for i in range(200):  # more output than a pipe buffers
        (tracked / "data" / f"new-{i:03}-{'x' * 200}.csv").write_text(str(i))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LOOM_")}
    proc = subprocess.Popen(
        [*entry, "status"], cwd=tracked, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # as `loom status | head -0` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1 and err == ""


def _mount_tmpfs_and(mountpoint: Path, argv: list[str]) -> list[str]:
    """argv run in a private mount namespace where ``mountpoint`` is a 64 KiB tmpfs."""
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip("needs unshare (user and mount namespaces) to fill a disk")
    script = 'mount -t tmpfs -o size=64k tmpfs "$0" && exec "$@"'
    return ["unshare", "-rm", "sh", "-c", script, str(mountpoint), *argv]


@ENTRIES
def test_full_remote_disk_hints_at_space_not_reachability(tracked, shared, entry):
    (tracked / "big.bin").write_bytes(os.urandom(300_000))  # more than the remote holds
    assert loom(TYPER, "add", "big.bin", cwd=tracked).returncode == 0
    remote = shared / "remote"
    remote.mkdir()
    assert loom(TYPER, "remote", "add", "-d", "small", str(remote), cwd=tracked).returncode == 0
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LOOM_")}
    argv = _mount_tmpfs_and(remote, [*entry, "push"])
    r = subprocess.run(argv, cwd=tracked, env=environ, capture_output=True, text=True, timeout=120)
    err = one_error(r, "No space left on device", "is full: free space there")
    assert "reachable" not in err and "loom gc" not in err


@pytest.fixture
def broken_store(tracked: Path) -> Path:
    db = tracked / ".loom" / "loom.db"
    db.write_bytes(b"this is not what SQLite writes at the start of a database\n" * 100)
    return db


@pytest.mark.parametrize("args", [["runs", "list"], ["exp", "list", "--json"]], ids=" ".join)
def test_corrupt_loom_db_names_the_file_and_what_to_do(broken_store, args):
    ws = broken_store.parents[1]
    r = loom(TYPER, *args, cwd=ws, env={"XDG_DATA_HOME": str(ws / "xdg")})
    err = one_error(r, str(broken_store.resolve()), "file is not a database", "Move it aside")
    assert "backup" in err and "db upgrade" not in err


@ENTRIES
def test_loom_debug_is_read_as_a_setting(tracked, entry):
    r = loom(entry, "push", cwd=tracked, env={"LOOM_DEBUG": "on"})  # no remote: a LoomError
    assert r.returncode == 1 and "Traceback" in r.stderr and "Error: No remote" in r.stderr
    r = loom(entry, "status", cwd=tracked, env={"LOOM_DEBUG": "maybe"})
    one_error(r, "LOOM_DEBUG", "'maybe'", "true or false")
    assert r.stdout == ""


def _holds_open(pid: int, path: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except OSError:  # a descriptor closed while we looked
        return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
@ENTRIES
def test_ctrl_c_says_interrupted_and_exits_130(tracked, entry):
    import fcntl

    (tracked / ".loom" / "config.local.toml").write_text("[lock]\ntimeout_seconds = 120\n")
    lock = (tracked / ".loom" / "lock").resolve()
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # the command waits for it, then gets Ctrl-C
        environ = {k: v for k, v in os.environ.items() if not k.startswith("LOOM_")}
        proc = subprocess.Popen(
            [*entry, "add", "data"],
            cwd=tracked,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: _holds_open(proc.pid, lock), what="the command waiting for the lock")
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 130 and "Interrupted." in err and "Traceback" not in err, err


def test_loom_warnings_print_once_as_warning_and_hint(capsys):
    from loom.cli.guard import guarded
    from loom.errors import warn

    def body() -> int:
        warn("The cache holds 2 versions no remote has.", hint="loom push")
        warn("The cache holds 2 versions no remote has.", hint="loom push")
        warn("Another thing.")
        return 0

    assert guarded(body) == 0
    assert capsys.readouterr().err == (
        "Warning: The cache holds 2 versions no remote has.\nHint: loom push\n"
        "Warning: Another thing.\n"
    )


def test_a_bug_is_one_line_and_its_traceback_is_on_demand(capsys, monkeypatch):
    from loom.cli.guard import guarded

    def body() -> int:
        raise RuntimeError("a bug")

    monkeypatch.delenv("LOOM_DEBUG", raising=False)
    assert guarded(body) == 1
    err = capsys.readouterr().err
    assert "Internal error: RuntimeError: a bug" in err and "LOOM_DEBUG=1" in err
    assert "Traceback" not in err
    monkeypatch.setenv("LOOM_DEBUG", "1")
    assert guarded(body) == 1
    assert "Traceback" in capsys.readouterr().err
