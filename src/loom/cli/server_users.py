"""``loom server users|tokens|grant|revoke``: who may use the team server, and how much.

These commands write the server's store directly (the same ``--backend-store-uri``
as ``loom server``), so the first admin can be made before any server runs;
a running server sees every change on its next request.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from loom.cli import output

STORE = typer.Option(
    None,
    "--backend-store-uri",
    envvar="LOOM_BACKEND_STORE_URI",
    metavar="URI",
    help="sqlite:///… or postgresql://… (default: ./loom.db).",
)
JSON = typer.Option(False, "--json", help=output.JSON_HELP)
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="Read the password from stdin's first line (no prompt)."
)

users_app = typer.Typer(help="Users of the team server.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (MLFLOW_TRACKING_TOKEN).", no_args_is_help=True)


@contextmanager
def _store(uri: str | None) -> Iterator[Any]:
    from loom.cli.server import _store_uri
    from loom.server.services import check_schema
    from loom.store import Store

    store = Store(_store_uri(uri))
    try:
        check_schema(store, upgrade=False)  # a new store is created; an old one is not migrated
        yield store
    finally:
        store.close()


def _password(from_stdin: bool) -> str:
    from loom.server.auth import passwords

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    passwords.check_password(password)
    return password


def _time(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


@users_app.command("add")
def users_add(
    name: str,
    admin: bool = typer.Option(False, "--admin", help="May do anything, grant included."),
    password_stdin: bool = PASSWORD_STDIN,
    uri: str | None = STORE,
) -> None:
    """Add user NAME (asks for the password twice)."""
    from loom.errors import AlreadyExistsError
    from loom.server.auth import passwords

    passwords.check_user_name(name)
    with _store(uri) as store:
        if store.get_user(name) is not None:  # before asking for a password in vain
            raise AlreadyExistsError(f"A user named {name!r} already exists.")
        hashed = passwords.hash_password(_password(password_stdin))
        store.create_user(name, hashed, is_admin=admin)
    output.say(f"Added {'admin ' if admin else ''}user {name}.")


@users_app.command("list")
def users_list(as_json: bool = JSON, uri: str | None = STORE) -> None:
    """List users and their grants."""
    with _store(uri) as store:
        users = store.list_users()
        grants = store.list_permissions()
    rows = [
        {
            "name": u.name,
            "is_admin": u.is_admin,
            "creation_time": u.creation_time,
            "permissions": [
                {"kind": g.kind, "resource": g.resource, "level": g.level}
                for g in grants
                if g.user == u.name
            ],
        }
        for u in users
    ]
    if as_json:
        return output.print_json(rows)
    for r in rows:
        shown = ", ".join(f"{p['level']} {p['kind']} {p['resource']}" for p in r["permissions"])
        role = "admin" if r["is_admin"] else "user"
        output.say(f"{r['name']}\t{role}\t{_time(r['creation_time'])}\t{shown}".rstrip())


@users_app.command("delete")
def users_delete(name: str, uri: str | None = STORE) -> None:
    """Delete user NAME with their tokens and grants (effective at once)."""
    with _store(uri) as store:
        store.delete_user(name)
    output.say(f"Deleted user {name}.")


@users_app.command("passwd")
def users_passwd(name: str, password_stdin: bool = PASSWORD_STDIN, uri: str | None = STORE) -> None:
    """Set user NAME's password (the old one stops working at once)."""
    from loom.server.auth import passwords

    hashed = passwords.hash_password(_password(password_stdin))
    with _store(uri) as store:
        store.update_user(name, password_hash=hashed)
    output.say(f"Changed the password of {name}.")


@users_app.command("admin")
def users_admin(
    name: str,
    revoke: bool = typer.Option(False, "--revoke", help="Take admin rights away instead."),
    uri: str | None = STORE,
) -> None:
    """Make user NAME an admin (or no longer one, with --revoke)."""
    with _store(uri) as store:
        store.update_user(name, is_admin=not revoke)
    output.say(f"{name} is {'no longer ' if revoke else ''}an admin.")


@tokens_app.command("create")
def tokens_create(
    user: str,
    name: str = typer.Option(..., "--name", help="What the token is for (a job, a machine)."),
    uri: str | None = STORE,
) -> None:
    """Create an API token for USER and print it (only this once: it is stored hashed)."""
    from loom.server.auth import passwords, tokens

    passwords.check_token_name(name)
    token = tokens.new_token()
    with _store(uri) as store:
        store.create_token(user, name, tokens.token_hash(token))
    output.say(token)
    sys.stdout.flush()
    sys.stderr.write("Store it now (MLFLOW_TRACKING_TOKEN): it can't be shown again.\n")


@tokens_app.command("list")
def tokens_list(user: str, as_json: bool = JSON, uri: str | None = STORE) -> None:
    """List USER's tokens by name (never their text)."""
    with _store(uri) as store:
        found = store.list_tokens(user)
    if as_json:
        return output.print_json(
            [{"name": t.name, "creation_time": t.creation_time} for t in found]
        )
    for t in found:
        output.say(f"{t.name}\t{_time(t.creation_time)}")


@tokens_app.command("revoke")
def tokens_revoke(user: str, name: str, uri: str | None = STORE) -> None:
    """Revoke USER's token NAME (effective at once)."""
    with _store(uri) as store:
        store.revoke_token(user, name)
    output.say(f"Revoked {user}'s token {name}.")


EXPERIMENT = typer.Option(None, "--experiment", help="An experiment, by name or id.")
MODEL = typer.Option(None, "--model", help="A registered model, by name.")


def _resource(store: Any, experiment: str | None, model: str | None) -> tuple[str, str]:
    from loom.errors import NotFoundError, UsageError

    if (experiment is None) == (model is None):
        raise UsageError("Name one resource: --experiment NAME_OR_ID or --model NAME.")
    if model is not None:
        store.get_registered_model(model)  # a 404 for a typo, not a grant on nothing
        return "model", model
    assert experiment is not None
    found = store.get_experiment_by_name(experiment)
    if found is None and experiment.isdigit():
        found = store.get_experiment(experiment)
    if found is None:
        raise NotFoundError(f"No experiment named {experiment!r}.", hint="loom exp list")
    return "experiment", found.experiment_id


def grant(
    user: str,
    level: str = typer.Argument(..., help="READ, EDIT, MANAGE or NO_PERMISSIONS."),
    experiment: str | None = EXPERIMENT,
    model: str | None = MODEL,
    uri: str | None = STORE,
) -> None:
    """Give USER a LEVEL on an experiment or a registered model."""
    with _store(uri) as store:
        kind, resource = _resource(store, experiment, model)
        store.set_permission(user, kind, resource, level.upper())
    output.say(f"{user} has {level.upper()} on {kind} {resource}.")


def revoke(
    user: str,
    experiment: str | None = EXPERIMENT,
    model: str | None = MODEL,
    uri: str | None = STORE,
) -> None:
    """Remove USER's grant on an experiment or model (the server's default applies again)."""
    with _store(uri) as store:
        kind, resource = _resource(store, experiment, model)
        store.delete_permission(user, kind, resource)
    output.say(f"Removed {user}'s grant on {kind} {resource}.")


def register(server_app: typer.Typer) -> None:
    server_app.add_typer(users_app, name="users")
    server_app.add_typer(tokens_app, name="tokens")
    server_app.command("grant")(grant)
    server_app.command("revoke")(revoke)
