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


def test_http_backend_is_not_there_yet(tmp_path: Path) -> None:
    from loom.tracking.client import Client

    c = Client("http://127.0.0.1:5000")
    with pytest.raises(UsageError, match="http backend"):
        c.create_experiment("x")
