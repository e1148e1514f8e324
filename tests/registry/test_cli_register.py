"""`loom models register URI NAME`: registers, says when the files are already a version,
and answers bad input with one error line and a hint."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from loom.registry import api


@pytest.fixture
def logged(client, run_id, sk_model, tmp_path) -> str:
    (tmp_path / "notes.txt").write_text("not a model\n")
    client.log_artifact(run_id, tmp_path / "notes.txt", "notes")
    return api.log_model(sk_model, "model", run_id=run_id, client=client).model_uri


def test_register_then_again_says_it_is_already_registered(cli, store_uri, logged) -> None:
    first = cli("models", "register", logged, "churn", "--semver", "1.0.0", "--description",
                "first cut", "--tag", "team=search", "--tracking-uri", store_uri)  # fmt: skip
    assert first.code == 0, first.err
    assert first.out.strip() == "Registered churn version 1 (1.0.0): models:/churn/1"
    assert first.err == ""
    again = cli("models", "register", logged, "churn", "--tracking-uri", store_uri)
    assert again.code == 0, again.err
    assert again.out.strip() == "Already registered as churn version 1 (1.0.0): models:/churn/1"
    assert "Warning: Version 1 of model 'churn' already holds these files" in again.err
    as_json = cli("models", "register", logged, "churn", "--json", "--tracking-uri", store_uri)
    data = json.loads(as_json.out)
    assert (data["version"], data["created"], data["semver"]) == (1, False, "1.0.0")
    assert (data["description"], data["tags"]) == ("first cut", {"team": "search"})


@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (["models:/churn"], "Malformed model URI 'models:/churn'", "runs:/RUN_ID/path"),
        (["runs:/RUN/notes"], "is not a Loom model package", "loom.log_model"),
        (["models:/nope/1"], "nope", ""),
        (["MODEL", "--tag", "novalue"], "Tag 'novalue' is not KEY=VALUE", "--tag team=search"),
    ],
)
def test_bad_input_is_one_error_with_a_hint(
    cli, store_uri, logged, run_id, args, error, hint
) -> None:
    args = [a.replace("RUN", run_id).replace("MODEL", logged) for a in args]
    result = cli("models", "register", args[0], "churn", *args[1:], "--tracking-uri", store_uri)
    assert result.code == 1
    assert "Traceback" not in result.err and result.err.count("Error:") == 1
    assert error in result.err and "Hint:" in result.err and hint in result.err


def test_the_installed_command_has_it(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "loom", "models", "register", "s3://x", "churn",
         "--tracking-uri", f"sqlite:///{tmp_path / 'loom.db'}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "Error: Malformed model URI 's3://x'" in proc.stderr
