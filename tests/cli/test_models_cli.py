"""``loom models …`` on SQLite and PostgreSQL: tables, --json, alias history and --at,
and errors that say what exists (one line and a hint, never a traceback)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loom.cli.main import run as loom_run
from loom.store import open_store

from ..tracking.conftest import fresh_pg_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uri(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LOOM_CAPTURE_ENV", "0")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    if request.param == "sqlite":
        found: Iterator[str] = iter([f"sqlite:///{tmp_path / 'cli.db'}"])
    else:
        found = fresh_pg_schema(request.getfixturevalue("pg_url"))
    value = next(found)
    monkeypatch.setenv("LOOM_TRACKING_URI", value)
    yield value
    next(found, None)  # drops the PostgreSQL schema


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = loom_run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_error(result: tuple[int, str, str], *needles: str) -> str:
    code, _, err = result
    assert code == 1, err
    assert "Traceback" not in err and err.count("Error:") == 1 and "Hint:" in err, err
    for needle in needles:
        assert needle in err, err
    return err


def tree(i: int) -> str:
    return f"{i:064x}"


@pytest.fixture
def rag(uri: str) -> str:
    store = open_store(uri)
    for i in (1, 2, 3):
        store.create_model_version("rag", "runs:/x/model", tree(i), semver=f"1.{i}.0", user="ann")
    store.close()
    return "rag"


def test_list_show_versions(rag: str, capsys) -> None:
    code, out, _ = cli(capsys, "models", "list")
    assert code == 0 and "rag" in out and "3" in out
    assert [m["name"] for m in json.loads(cli(capsys, "models", "list", "--json")[1])] == ["rag"]
    cli(capsys, "models", "promote", "rag", "2", "--alias", "production")
    code, out, _ = cli(capsys, "models", "show", "rag")
    assert code == 0 and "production→2" in out and "1.3.0" in out
    shown = json.loads(cli(capsys, "models", "show", "rag", "--json")[1])
    assert shown["aliases"] == {"production": 2} and shown["latest_version"] == 3
    assert [v["version"] for v in shown["versions"]] == [1, 2, 3]
    assert shown["versions"][1]["aliases"] == ["production"]
    listed = json.loads(cli(capsys, "models", "versions", "rag", "--json")[1])
    assert (listed[0]["version"], listed[0]["semver"], listed[0]["user"]) == (1, "1.1.0", "ann")
    code, out, _ = cli(capsys, "models", "versions", "rag")
    assert code == 0 and "1.2.0" in out and "production" in out


def test_promote_rollback_history(rag: str, capsys) -> None:
    for v in ("1", "2", "3"):
        code, out, _ = cli(capsys, "models", "promote", "rag", v, "--alias", "production",
                           "--comment", f"to {v}")  # fmt: skip
        assert code == 0, out
    assert "2 → 3" in out
    code, out, _ = cli(capsys, "models", "rollback", "rag", "--alias", "production")
    assert code == 0 and "3 → 2 (rollback)" in out
    event = json.loads(cli(capsys, "models", "rollback", "rag", "-a", "production", "--json")[1])
    assert (event["from_version"], event["to_version"], event["kind"]) == (2, 1, "rollback")
    one_error(
        cli(capsys, "models", "rollback", "rag", "--alias", "production"),
        "Nothing to roll back",
        "loom models history rag --alias production",
    )
    history = json.loads(cli(capsys, "models", "history", "rag", "--json")[1])
    assert [(e["from_version"], e["to_version"]) for e in history] == [
        (None, 1), (1, 2), (2, 3), (3, 2), (2, 1),
    ]  # fmt: skip
    assert history[0]["comment"] == "to 1" and history[0]["user"]
    code, out, _ = cli(capsys, "models", "history", "rag", "--alias", "production")
    assert code == 0 and "rollback" in out and "to 3" in out
    cli(capsys, "models", "promote", "rag", "3", "--alias", "staging")
    staging = json.loads(cli(capsys, "models", "history", "rag", "-a", "staging", "--json")[1])
    assert [e["alias"] for e in staging] == ["staging"]
    code, out, _ = cli(capsys, "models", "alias", "delete", "rag", "staging")
    assert code == 0 and "3 → –" in out
    assert json.loads(cli(capsys, "models", "show", "rag", "--json")[1])["aliases"] == {
        "production": 1
    }


def _local_ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).astimezone().timestamp() * 1000)


def test_history_at_a_date_or_time(rag: str, uri: str, capsys) -> None:
    store = open_store(uri)
    store.set_registered_model_alias("rag", "production", 1, time=_local_ms("2026-03-10T09:00"))
    store.set_registered_model_alias("rag", "staging", 2, time=_local_ms("2026-03-12T09:00"))
    store.set_registered_model_alias("rag", "production", 2, time=_local_ms("2026-03-15T18:00"))
    store.set_registered_model_alias("rag", "production", 3, time=_local_ms("2026-03-16T00:00"))
    store.close()

    def held(*args: str) -> dict:
        code, out, err = cli(capsys, "models", "history", "rag", *args, "--json")
        assert code == 0, err
        return json.loads(out)["aliases"]

    # a bare date is the end of that day, local time: the 18:00 move counts
    assert held("--at", "2026-03-15") == {"production": 2, "staging": 2}
    assert held("--at", "2026-03-15T12:00") == {"production": 1, "staging": 2}
    assert held("--at", "2026-03-11", "--alias", "production") == {"production": 1}
    assert held("--at", "2026-03-11", "--alias", "staging") == {}
    assert held("--at", "2026-03-16T00:00") == {"production": 3, "staging": 2}
    assert held("--at", "2026-03-01") == {}
    code, out, _ = cli(capsys, "models", "history", "rag", "--at", "2026-03-15")
    assert code == 0 and "production" in out and "2026-03-15 23:59:59" in out
    code, out, _ = cli(capsys, "models", "history", "rag", "-a", "staging", "--at", "2026-03-11")
    assert code == 0 and "pointed at no version" in out
    one_error(cli(capsys, "models", "history", "rag", "--at", "15 March"), "2026-03-15T12:00")
    one_error(
        cli(capsys, "models", "history", "rag", "--alias", "prod", "--at", "2026-03-15"),
        "no alias 'prod'",
        "production -> 3",
    )


def test_history_at_with_10000_events_is_right_and_fast(rag: str, uri: str, capsys) -> None:
    from ..store.test_registry_aliases import T0, _bulk_history, _replay

    store = open_store(uri)
    events = _bulk_history(store, "rag", 10_000)
    store.close()
    for t in (events[5000][0], events[-1][0], T0 + 1):
        at = dt.datetime.fromtimestamp(t / 1000, dt.UTC).isoformat(timespec="milliseconds")
        started = time.perf_counter()
        code, out, err = cli(capsys, "models", "history", "rag", "--at", at, "--json")
        elapsed = time.perf_counter() - started
        assert code == 0, err
        want = _replay(events, t)
        assert json.loads(out)["aliases"] == ({} if want is None else {"production": want})
        assert elapsed < 0.5, f"history --at took {elapsed:.2f} s with 10,000 events"


def test_delete_needs_force_when_aliased_and_restore_undoes(rag: str, capsys) -> None:
    cli(capsys, "models", "promote", "rag", "2", "--alias", "production")
    one_error(cli(capsys, "models", "delete", "rag", "2"), "holds the alias", "--force")
    code, out, _ = cli(capsys, "models", "delete", "rag", "2", "--force")
    assert code == 0 and "Removed alias production" in out and "loom models restore rag 2" in out
    listed = json.loads(cli(capsys, "models", "versions", "rag", "--json")[1])
    assert [v["version"] for v in listed] == [1, 3]
    every = json.loads(cli(capsys, "models", "versions", "rag", "--all", "--json")[1])
    assert [v["lifecycle_stage"] for v in every] == ["active", "deleted", "active"]
    assert cli(capsys, "models", "restore", "rag", "2")[0] == 0
    assert len(json.loads(cli(capsys, "models", "versions", "rag", "--json")[1])) == 3
    assert cli(capsys, "models", "delete", "rag")[0] == 0  # the whole model, soft
    assert json.loads(cli(capsys, "models", "list", "--json")[1]) == []
    assert "rag" in cli(capsys, "models", "list", "--deleted")[1]
    one_error(cli(capsys, "models", "promote", "rag", "1", "-a", "x"), "deleted", "restore rag")
    assert cli(capsys, "models", "restore", "rag")[0] == 0
    assert [m["name"] for m in json.loads(cli(capsys, "models", "list", "--json")[1])] == ["rag"]


def test_describe_and_tag(rag: str, capsys) -> None:
    assert cli(capsys, "models", "describe", "rag", "Embeds queries")[0] == 0
    assert cli(capsys, "models", "describe", "rag", "2", "Second try")[0] == 0
    assert cli(capsys, "models", "tag", "rag", "team", "search")[0] == 0
    assert cli(capsys, "models", "tag", "rag", "2", "reviewed", "yes")[0] == 0
    shown = json.loads(cli(capsys, "models", "show", "rag", "--json")[1])
    assert shown["description"] == "Embeds queries" and shown["tags"] == {"team": "search"}
    second = shown["versions"][1]
    assert second["description"] == "Second try" and second["tags"] == {"reviewed": "yes"}
    assert cli(capsys, "models", "describe", "rag", "")[0] == 0  # "" clears it
    assert json.loads(cli(capsys, "models", "show", "rag", "--json")[1])["description"] is None
    one_error(cli(capsys, "models", "tag", "rag", "1", "2", "3", "4"), "[VERSION] KEY VALUE")
    one_error(cli(capsys, "models", "describe", "rag", "x", "text"), "Invalid model version 'x'")
    one_error(cli(capsys, "models", "tag", "rag", "9", "k", "v"), "has no version 9", "1-3")


def test_unknown_and_bad_input_are_one_error_with_a_hint(rag: str, capsys) -> None:
    one_error(cli(capsys, "models", "show", "rga"), "No registered model named 'rga'", "'rag'")
    one_error(cli(capsys, "models", "versions", "nope"), "No registered model", "loom models list")
    one_error(cli(capsys, "models", "promote", "rag", "7", "-a", "production"), "no version 7")
    one_error(cli(capsys, "models", "promote", "rag", "one", "-a", "production"), "versions are")
    one_error(cli(capsys, "models", "promote", "rag", "1", "-a", "Prod"), "Invalid alias")
    one_error(cli(capsys, "models", "promote", "rag", "1", "-a", "latest"), "reserved")
    one_error(cli(capsys, "models", "history", "rag", "-a", "prod"), "no alias 'prod'")
    one_error(cli(capsys, "models", "alias", "delete", "rag", "prod"), "no alias 'prod'")
    one_error(cli(capsys, "models", "rollback", "rag", "-a", "prod"), "no alias 'prod'")
    assert json.loads(cli(capsys, "models", "history", "rag", "--json")[1]) == []


def test_the_installed_command_runs_models(rag: str, uri: str, tmp_path: Path) -> None:
    """Through the console script's entry (the fast path hands `models` to typer)."""
    env = {**os.environ, "LOOM_TRACKING_URI": uri}
    argv = [sys.executable, "-c", "from loom.cli.fast import main; main()"]
    shown = subprocess.run([*argv, "models", "show", "rag", "--json"], env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["latest_version"] == 3
    bad = subprocess.run([*argv, "models", "show", "nope"], env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "No registered model named 'nope'" in bad.stderr and "Hint:" in bad.stderr
