"""`loom server users|tokens|grant|revoke`: the team server's accounts, from the CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loom.cli.main import run as loom_run
from loom.server.auth import passwords, tokens
from loom.store import Store

LOOM = str(Path(sys.executable).parent / "loom")


@pytest.fixture
def uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    uri = f"sqlite:///{tmp_path / 'loom.db'}"
    monkeypatch.setenv("LOOM_BACKEND_STORE_URI", uri)
    return uri


def cli(capsys, monkeypatch, *args: str, stdin: str = "") -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = loom_run(["server", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_users_add_list_passwd_delete(uri: str, capsys, monkeypatch) -> None:
    add = ("users", "add", "--password-stdin")
    assert cli(capsys, monkeypatch, *add, "alice", "--admin", stdin="alice-secret-1\n")[0] == 0
    assert cli(capsys, monkeypatch, *add, "bob", stdin="bob-secret-1\n")[0] == 0
    code, _, err = cli(capsys, monkeypatch, *add, "bob", stdin="bob-secret-2\n")
    assert code == 1 and "already exists" in err
    code, out, _ = cli(capsys, monkeypatch, "users", "list", "--json")
    users = json.loads(out)
    assert [(u["name"], u["is_admin"]) for u in users] == [("alice", True), ("bob", False)]
    with Store(uri) as store:
        before = store.get_user("bob")
    assert before is not None and before.password_hash.startswith("$argon2id$")
    assert "bob-secret-1" not in before.password_hash
    assert (
        cli(
            capsys, monkeypatch, "users", "passwd", "bob", "--password-stdin", stdin="new-pass-1\n"
        )[0]
        == 0
    )
    with Store(uri) as store:
        after = store.get_user("bob")
    assert after is not None and passwords.verify(after.password_hash, "new-pass-1")
    assert after.password_hash != before.password_hash
    assert cli(capsys, monkeypatch, "users", "delete", "bob")[0] == 0
    code, _, err = cli(capsys, monkeypatch, "users", "delete", "bob")
    assert code == 1 and "No user named 'bob'" in err and "users list" in err
    assert [
        u["name"] for u in json.loads(cli(capsys, monkeypatch, "users", "list", "--json")[1])
    ] == ["alice"]


def test_no_weak_or_default_password_and_no_odd_names(uri: str, capsys, monkeypatch) -> None:
    add = ("users", "add", "--password-stdin")
    code, _, err = cli(capsys, monkeypatch, *add, "carol", stdin="")  # nothing given: no default
    assert code == 1 and "at least 8 characters" in err
    assert cli(capsys, monkeypatch, *add, "carol", stdin="short\n")[0] == 1
    code, _, err = cli(capsys, monkeypatch, *add, "bad:name", stdin="long-enough-1\n")
    assert code == 1 and "Invalid user name" in err
    assert json.loads(cli(capsys, monkeypatch, "users", "list", "--json")[1]) == []


def test_users_add_prompts_twice(uri: str, tmp_path: Path) -> None:
    """Without --password-stdin the password is asked twice (no terminal here: its
    own session, so the prompt reads the pipe)."""

    def add(name: str, typed: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [LOOM, "server", "users", "add", name],
            input=typed,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "LOOM_BACKEND_STORE_URI": uri},
            start_new_session=True,
            timeout=60,
        )

    assert add("dave", "dave-secret-1\ndave-secret-1\n").returncode == 0
    assert add("erin", "erin-secret-1\nsomething-else\n").returncode != 0
    with Store(uri) as store:
        dave = store.get_user("dave")
        assert dave is not None and passwords.verify(dave.password_hash, "dave-secret-1")
        assert store.get_user("erin") is None


def test_tokens_create_list_revoke(uri: str, capsys, monkeypatch) -> None:
    cli(capsys, monkeypatch, "users", "add", "alice", "--password-stdin", stdin="alice-secret-1\n")
    code, out, err = cli(capsys, monkeypatch, "tokens", "create", "alice", "--name", "ci")
    token = out.strip()
    assert code == 0 and token.startswith("loom_") and len(token.splitlines()) == 1
    assert "can't be shown again" in err
    with Store(uri) as store:
        owner = store.token_user(tokens.token_hash(token))
        assert owner is not None and owner.name == "alice"
        assert store.token_user(token) is None  # only the hash is stored
    code, _, err = cli(capsys, monkeypatch, "tokens", "create", "alice", "--name", "ci")
    assert code == 1 and "already has a token named 'ci'" in err
    assert cli(capsys, monkeypatch, "tokens", "create", "nobody", "--name", "ci")[0] == 1
    code, out, _ = cli(capsys, monkeypatch, "tokens", "list", "alice", "--json")
    listed = json.loads(out)
    assert [t["name"] for t in listed] == ["ci"] and token not in out
    assert cli(capsys, monkeypatch, "tokens", "revoke", "alice", "ci")[0] == 0
    with Store(uri) as store:
        assert store.token_user(tokens.token_hash(token)) is None
    code, _, err = cli(capsys, monkeypatch, "tokens", "revoke", "alice", "ci")
    assert code == 1 and "no token named 'ci'" in err


def test_grant_and_revoke(uri: str, capsys, monkeypatch) -> None:
    cli(capsys, monkeypatch, "users", "add", "bob", "--password-stdin", stdin="bob-secret-1\n")
    with Store(uri) as store:
        eid = store.create_experiment("rag").experiment_id
        store.create_registered_model("ranker")
    assert cli(capsys, monkeypatch, "grant", "bob", "EDIT", "--experiment", "rag")[0] == 0
    assert cli(capsys, monkeypatch, "grant", "bob", "manage", "--model", "ranker")[0] == 0
    users = json.loads(cli(capsys, monkeypatch, "users", "list", "--json")[1])
    assert users[0]["permissions"] == [
        {"kind": "experiment", "resource": eid, "level": "EDIT"},
        {"kind": "model", "resource": "ranker", "level": "MANAGE"},
    ]
    assert cli(capsys, monkeypatch, "grant", "bob", "READ", "--experiment", eid)[0] == 0  # by id
    code, _, err = cli(capsys, monkeypatch, "grant", "bob", "OWNER", "--experiment", "rag")
    assert code == 1 and "Unknown permission level" in err
    assert cli(capsys, monkeypatch, "grant", "bob", "READ", "--model", "no-such-model")[0] == 1
    assert cli(capsys, monkeypatch, "grant", "bob", "READ", "--experiment", "no-such")[0] == 1
    code, _, err = cli(capsys, monkeypatch, "grant", "bob", "READ")
    assert code == 1 and "--experiment" in err
    assert cli(capsys, monkeypatch, "grant", "nobody", "READ", "--experiment", "rag")[0] == 1
    assert cli(capsys, monkeypatch, "revoke", "bob", "--experiment", "rag")[0] == 0
    assert cli(capsys, monkeypatch, "revoke", "bob", "--experiment", "rag")[0] == 1
    with Store(uri) as store:
        assert store.permissions("bob", "experiment", [eid]) == {}
        assert store.permissions("bob", "model", ["ranker"]) == {"ranker": "MANAGE"}
