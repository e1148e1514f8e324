from __future__ import annotations

from pathlib import Path

import pytest

from loom import config
from loom.errors import UsageError, WorkspaceError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_settings_doc_is_generated_from_the_registry() -> None:
    assert DOCS.read_text(encoding="utf-8") == config.settings_markdown(), (
        "docs/settings.md drifted; regenerate it with "
        "python -c \"import loom.config as c; open('docs/settings.md','w')"
        '.write(c.settings_markdown())"'
    )


def test_every_setting_has_help_and_a_unique_key() -> None:
    keys = [s.key for s in config.SETTINGS]
    assert len(keys) == len(set(keys))
    assert all(s.help.strip() for s in config.SETTINGS)


def test_environment_beats_file_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOOM_JOBS", raising=False)
    assert config.get("core.jobs") == 0
    assert config.get("core.jobs", {"core": {"jobs": 3}}) == 3
    monkeypatch.setenv("LOOM_JOBS", "7")
    assert config.get("core.jobs", {"core": {"jobs": 3}}) == 7


def test_bad_environment_value_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOM_JOBS", "many")
    with pytest.raises(UsageError) as exc:
        config.get("core.jobs")
    assert "LOOM_JOBS" in exc.value.message and exc.value.hint


def test_unknown_setting_names_the_known_ones() -> None:
    with pytest.raises(UsageError) as exc:
        config.setting("cache.kind")
    assert "cache.type" in exc.value.hint


def test_toml_round_trip_with_odd_keys(tmp_path: Path) -> None:
    values = {
        "core": {"remote": "storage", "jobs": 4},
        "remote": {"my store": {"url": 's3://b/p"q', "endpoint_url": "http://127.0.0.1:9"}},
        "cache": {"protected": False, "type": "hardlink,copy"},
    }
    path = tmp_path / "config.toml"
    config.write_toml(path, values)
    assert config.read_toml(path) == values
    assert not list(tmp_path.glob("*.tmp*"))


def test_garbled_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[core\nremote = 1", encoding="utf-8")
    with pytest.raises(WorkspaceError) as exc:
        config.read_toml(path)
    assert str(path) in exc.value.message
