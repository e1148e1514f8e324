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
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


def test_garbled_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[core\nremote = 1", encoding="utf-8")
    with pytest.raises(WorkspaceError) as exc:
        config.read_toml(path)
    assert str(path) in exc.value.message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("gc.grace_seconds", "x"),
        ("tracking.flush_interval", "soon"),
        ("cache.type", "teleport"),
        ("cache.type", "copy,teleport"),
        ("core.remote", 5),
        ("core.jobs", -1),
        ("core.jobs", 1.5),
        ("cache.protected", "yes"),
        ("lock.timeout_seconds", float("nan")),
    ],
)
def test_a_wrong_setting_names_the_file_and_key(key: str, value: object) -> None:
    section, name = key.split(".")
    with pytest.raises(UsageError) as exc:
        config.validate({section: {name: value}}, "/w/.loom/config.toml")
    assert key in exc.value.message and "/w/.loom/config.toml" in exc.value.message
    assert exc.value.hint


def test_good_settings_pass_and_are_typed() -> None:
    layer = [("f", {"gc": {"grace_seconds": 60}, "cache": {"type": "hardlink, copy"}})]
    config.validate(layer[0][1], "f")
    assert config.get("gc.grace_seconds", layer) == 60.0
    assert config.get("cache.type", layer) == "hardlink,copy"


def test_an_unknown_key_in_a_loom_section_is_refused() -> None:
    with pytest.raises(UsageError) as exc:
        config.validate({"cache": {"typ": "copy"}}, "f")
    assert "cache.typ" in exc.value.message and "cache.type" in exc.value.hint
    config.validate({"remote": {"s": {"url": "x"}}}, "f")  # remotes are checked elsewhere


def test_the_first_layer_wins() -> None:
    layers = [("local", {"core": {"jobs": 2}}), ("committed", {"core": {"jobs": 5}})]
    assert config.get("core.jobs", layers) == 2
    assert config.get("core.jobs", layers[1:]) == 5


@pytest.mark.parametrize(
    ("raw", "value"), [("on", True), ("1", True), ("off", False), ("no", False)]
)
def test_boolean_environment_words(monkeypatch: pytest.MonkeyPatch, raw: str, value: bool) -> None:
    monkeypatch.setenv("LOOM_DEBUG", raw)
    assert config.get("debug") is value


def test_a_boolean_environment_typo_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOM_CAPTURE_ENV", "maybe")
    with pytest.raises(UsageError) as exc:
        config.get("tracking.capture_env")
    assert "LOOM_CAPTURE_ENV" in exc.value.message


def test_local_config_wins_over_the_committed_one(tmp_path: Path) -> None:
    from loom.data.workspace import init

    ws = init(tmp_path, no_scm=True)
    ws.save_config({"core": {"jobs": 3}})
    ws.save_config({"core": {"jobs": 9}}, local=True)
    assert ws.setting("core.jobs") == 9
    (ws.loom_dir / "config.local.toml").write_text('[gc]\ngrace_seconds = "x"\n')
    with pytest.raises(UsageError) as exc:
        ws.setting("core.jobs")
    assert "config.local.toml" in exc.value.message and "gc.grace_seconds" in exc.value.message
