"""The real DVC (3.67.1, in a venv of its own) and real DVC projects built with it.

The venv is installed once per machine under ``~/.cache/loom-tests/``
(``LOOM_TEST_DVC_VENV`` overrides it) from the package index pip is set up
with (~35 s), under a file lock so parallel test workers install it once.
Under ``CI=true`` a failed install fails the tests; elsewhere they skip.

Stage commands run ``python``: a folder first on PATH holds a ``python`` that is
the test's own interpreter, so DVC and Loom run the very same scripts the same way.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import need_service

DVC_VERSION = "3.67.1"
HERE = Path(__file__).resolve().parent


def _venv_dir() -> Path:
    override = os.environ.get("LOOM_TEST_DVC_VENV")
    if override:
        return Path(override)
    return Path.home() / ".cache" / "loom-tests" / f"dvc-{DVC_VERSION}"


def _install(venv: Path) -> None:
    base = getattr(sys, "_base_executable", sys.executable)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"dvc=={DVC_VERSION}"],
        check=True,
        capture_output=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def dvc_bin() -> Path:
    """The ``dvc`` executable of DVC 3.67.1, installed on first use."""
    venv = _venv_dir()
    venv.parent.mkdir(parents=True, exist_ok=True)
    stamp = venv / ".loom-tests-installed"
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another xdist worker may be installing it
        if not stamp.exists():
            try:
                _install(venv)
            except (subprocess.SubprocessError, OSError) as exc:
                err = getattr(exc, "stderr", b"") or b""
                need_service(f"dvc=={DVC_VERSION} could not be installed: {exc} {err[-500:]!r}")
            stamp.write_text(DVC_VERSION)
    return venv / "bin" / "dvc"


@pytest.fixture(scope="session")
def tool_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What DVC and Loom get on top of the environment (read at each call, so a test's
    monkeypatched variables reach them): ``python`` is this interpreter; DVC's global
    and site folders are private (no analytics, no update checks, no writes to ~)."""
    base = tmp_path_factory.mktemp("dvc-env")
    shim = base / "bin"
    shim.mkdir()
    (shim / "python").symlink_to(sys.executable)
    for name in ("global", "system", "site"):
        (base / name).mkdir()
    return {
        "PATH": f"{shim}{os.pathsep}{os.environ.get('PATH', '')}",
        "DVC_NO_ANALYTICS": "1",
        "DVC_GLOBAL_CONFIG_DIR": str(base / "global"),
        "DVC_SYSTEM_CONFIG_DIR": str(base / "system"),
        "DVC_SITE_CACHE_DIR": str(base / "site"),
        "GIT_AUTHOR_NAME": "Loom Test",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "Loom Test",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }


Run = Callable[..., str]


@pytest.fixture(scope="session")
def dvc(dvc_bin: Path, tool_env: dict[str, str]) -> Run:
    """``dvc(*args, cwd=...)``: run real DVC; fails the test with its output if it fails."""

    def call(*args: str, cwd: Path) -> str:
        proc = subprocess.run(
            [str(dvc_bin), *args],
            cwd=cwd,
            env={**os.environ, **tool_env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, f"dvc {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}"
        return proc.stdout

    return call


@pytest.fixture(scope="session")
def loom(tool_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``loom(*args, cwd=...)``: run Loom as a user would, in a process of its own."""

    def call(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "loom", *args],
            cwd=cwd,
            env={**os.environ, **tool_env},
            capture_output=True,
            text=True,
            timeout=300,
        )

    return call


def git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def copy_project(template: Path, dest: Path) -> Path:
    """A copy of a built project (symlinks kept, mtimes kept) for one test to change."""
    shutil.copytree(template, dest, symlinks=True)
    return dest


def _builder(tmp_path_factory, dvc: Run, env: dict[str, str], name: str, build) -> Path:
    base = tmp_path_factory.mktemp(name)
    root = base / "project"

    def run_git(*args: str) -> str:
        return git(*args, cwd=root, env=env)

    def run_dvc(*args: str) -> str:
        return dvc(*args, cwd=root)

    build(root, run_dvc, run_git)
    return base


@pytest.fixture(scope="session")
def rich_template(tmp_path_factory, dvc: Run, tool_env) -> Path:
    from tests.pipelines.dvcimport.projects import build_rich

    return _builder(tmp_path_factory, dvc, tool_env, "rich", build_rich)


@pytest.fixture(scope="session")
def get_started_template(tmp_path_factory, dvc: Run, tool_env) -> Path:
    from tests.pipelines.dvcimport.projects import build_get_started

    return _builder(tmp_path_factory, dvc, tool_env, "get-started", build_get_started)


@pytest.fixture
def rich(rich_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built project (and its DVC remote beside it); its root."""
    return copy_project(rich_template, tmp_path / "rich") / "project"


@pytest.fixture
def get_started(get_started_template: Path, tmp_path: Path) -> Path:
    return copy_project(get_started_template, tmp_path / "get-started") / "project"
