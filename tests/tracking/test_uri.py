"""Tracking URI and artifact root resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from loom.errors import UsageError
from loom.tracking.uri import artifact_root, redact, resolve_tracking_uri


def _workspace(root: Path, config: str = "") -> Path:
    (root / ".loom").mkdir(parents=True)
    (root / ".loom" / "config.toml").write_text(config)
    return root


def test_order_explicit_env_workspace_default(tmp_path: Path, monkeypatch) -> None:
    ws = _workspace(tmp_path / "ws", '[tracking]\nuri = "sqlite:///meta/ws.db"\n')
    (ws / "sub").mkdir()
    monkeypatch.chdir(ws / "sub")
    assert resolve_tracking_uri() == f"sqlite:///{ws / 'meta' / 'ws.db'}"
    monkeypatch.setenv("LOOM_TRACKING_URI", "postgresql://u@h/db")
    assert resolve_tracking_uri() == "postgresql+psycopg://u@h/db"
    assert resolve_tracking_uri("sqlite:////x/y.db") == "sqlite:////x/y.db"


def test_embedded_defaults(tmp_path: Path, monkeypatch) -> None:
    ws = _workspace(tmp_path / "ws")
    monkeypatch.chdir(ws)
    assert resolve_tracking_uri() == f"sqlite:///{ws / '.loom' / 'loom.db'}"
    assert artifact_root(resolve_tracking_uri()) == ws / ".loom" / "cache"
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    uri = resolve_tracking_uri()
    assert uri.startswith(f"sqlite:///{tmp_path / 'xdg'}") and uri.endswith("loom.db")


def test_artifact_root_next_to_sqlite_or_configured(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert artifact_root(f"sqlite:///{tmp_path / 'd' / 'x.db'}") == tmp_path / "d" / "objects"
    monkeypatch.setenv("LOOM_ARTIFACT_ROOT", str(tmp_path / "arts"))
    assert artifact_root(f"sqlite:///{tmp_path / 'x.db'}") == tmp_path / "arts"


def test_unknown_scheme_and_redaction() -> None:
    with pytest.raises(UsageError) as err:
        resolve_tracking_uri("mysql://x")
    assert "sqlite:///" in err.value.hint
    assert redact("postgresql+psycopg://bob:s3cret@db/x") == "postgresql+psycopg://bob:***@db/x"


def test_an_http_uri_opens_the_http_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    from loom.errors import RemoteError
    from loom.tracking import http_backend
    from loom.tracking.client import Client
    from loom.tracking.http_backend import HttpBackend
    from tests.conftest import free_port

    monkeypatch.setattr(http_backend, "CONNECT_RETRIES", 0)  # no backoff to wait through
    with Client(f"http://127.0.0.1:{free_port()}") as c:
        assert isinstance(c.backend, HttpBackend) and c.artifact_root is None
        with pytest.raises(RemoteError, match="Could not reach") as err:
            c.create_experiment("x")  # nothing listens there
        assert "loom server" in (err.value.hint or "")
