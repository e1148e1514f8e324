"""The console script's fast data commands (no typer): same output and errors as the full CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import make_dataset, write

_SCRIPT = "import sys; from loom.cli.fast import main; sys.argv[0] = 'loom'; main()"


def loom(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real console-script entry point in a fresh interpreter."""
    cmd = [sys.executable, "-c", _SCRIPT, *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_fast_status_prints_what_the_full_cli_prints(ws, cli):
    make_dataset("data", n=5)
    write("model.bin", b"weights")
    assert cli("add", "data", "model.bin").code == 0
    write("data/extra.txt", "new")
    Path("model.bin").unlink()
    for args in ((), ("--json",), ("data",), ("-q", "-j", "2", "data")):
        fast, full = loom("status", *args), cli("status", *args)
        assert (fast.returncode, fast.stdout) == (full.code, full.out), args
    rows = json.loads(loom("status", "--json").stdout)
    assert [(r["path"], r["state"], r["added"]) for r in rows] == [
        ("data", "modified", ["extra.txt"]),
        ("model.bin", "deleted", []),
    ]


def test_fast_status_never_imports_typer_and_errors_keep_their_hint(ws, tmp_path):
    probe = "import atexit, sys; from loom.cli.fast import main; sys.argv = ['loom', 'status']\n"
    probe += "atexit.register(lambda: print('typer' in sys.modules))\nmain()"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    r = loom("status", cwd=outside)
    assert r.returncode == 1 and "not inside a Loom workspace" in r.stderr
    assert "Hint:" in r.stderr and "Traceback" not in r.stderr


def test_other_commands_and_options_go_through_typer(ws):
    assert loom("status", "--help").stdout.count("--json") == 1
    r = loom("status", "--jobs", "x")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert loom("--version").stdout.startswith("loom ")


def test_fast_data_commands_print_what_the_full_cli_prints(ws, cli, tmp_path):
    make_dataset("data", n=5)
    fast = loom("add", "data")
    assert fast.returncode == 0 and "Added data (5 files" in fast.stdout
    assert "git add data.loom .gitignore" in fast.stdout
    assert cli("remote", "add", "-d", "store", str(tmp_path / "remote")).code == 0
    assert loom("push", "-q").stdout == ""
    pushed = json.loads(loom("push", "--json").stdout)
    assert pushed["transferred"] == 0 and pushed["skipped"] > 0
    write("data/part-000.csv", "changed")
    r = loom("checkout")
    assert r.returncode == 1 and "checkout would lose them" in r.stderr and "Hint:" in r.stderr
    r = loom("checkout", "-f", "data")
    assert (r.returncode, r.stdout) == (0, "1 file(s) written, 0 removed, 0 path(s) unchanged.\n")
    assert loom("pull", "-j", "2").stdout == cli("pull", "-j", "2").out
    assert loom("add", "-j", "2", "-q", "data").stdout == ""


def test_the_quick_exit_still_does_what_teardown_is_for():
    """The console script skips the interpreter's teardown: threads still finish, idle pool
    workers don't hold it up, atexit handlers run, output is flushed, the status is kept."""
    script = (
        "import atexit, sys, threading, time\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "pool = ThreadPoolExecutor(2); pool.submit(int).result()  # idle, never shut down\n"
        "threading.Thread(target=lambda: (time.sleep(0.3), print('thread done'))).start()\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "sys.stdout.write('buffered, no newline')\n"
        "from loom.cli.fast import _exit\n"
        "_exit(3)\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stderr
    assert r.stdout == "buffered, no newlinethread done\natexit ran\n"
