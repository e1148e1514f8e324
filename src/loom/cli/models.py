"""``loom models …``: the model registry's management commands, thin over :class:`loom.Client`.

Other modules add their commands (register, at, diff, serve) to ``models_app``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import typer
from rich.markup import escape
from rich.table import Column, Table

from loom.cli import output

models_app = typer.Typer(
    help="Model registry: versions, aliases and their history, promote and rollback.",
    no_args_is_help=True,
)
alias_app = typer.Typer(help="Aliases of a model: delete.", no_args_is_help=True)
models_app.add_typer(alias_app, name="alias")

URI = typer.Option(
    None, "--tracking-uri", envvar="LOOM_TRACKING_URI", help="Store URI (default: resolved)."
)
JSON = typer.Option(False, "--json", help=output.JSON_HELP)
ALIAS = typer.Option(..., "--alias", "-a", help="The alias, e.g. production.")
COMMENT = typer.Option(None, "--comment", "-m", help="Why (kept in the alias history).")


def client(uri: str | None):
    """The client for ``--tracking-uri`` (other models commands use it too)."""
    from loom.tracking.client import Client

    return Client(uri)


def version_number(text: str) -> int:
    """A VERSION argument as an int; a clear error (with a hint) for anything else."""
    from loom.store.registry_checks import check_version

    return check_version(text)


def jsonable(obj: Any) -> Any:
    is_instance = dataclasses.is_dataclass(obj) and not isinstance(obj, type)
    return dataclasses.asdict(obj) if is_instance else obj


def when(ms: int | None) -> str:
    from loom.timeparse import format_time

    return format_time(ms)


def _view(deleted: bool, all_: bool):
    from loom.store.entities import ViewType

    return ViewType.ALL if all_ else ViewType.DELETED_ONLY if deleted else ViewType.ACTIVE_ONLY


def _aliases(aliases: dict[str, int]) -> str:
    return ", ".join(f"{a}→{v}" for a, v in aliases.items())


def _short(text: str | None, width: int = 50) -> str:
    line = (text or "").splitlines()[0] if text else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def _v(number: int | None) -> str:
    return "–" if number is None else str(number)


# -- models and versions -------------------------------------------------------------


@models_app.command("list")
def list_models(
    deleted: bool = typer.Option(False, "--deleted", help="Only deleted models."),
    all_: bool = typer.Option(False, "--all", help="Active and deleted models."),
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """List registered models with their newest version and aliases."""
    with client(uri) as c:
        models = c.list_registered_models(_view(deleted, all_))
    if as_json:
        return output.print_json([jsonable(m) for m in models])
    if not models:
        return output.say("No registered models. Register one: loom models register URI NAME")
    table = Table("name", "latest", "aliases", Column("updated", no_wrap=True), "description")
    for m in models:
        name = escape(m.name) + (" [dim](deleted)[/]" if m.lifecycle_stage == "deleted" else "")
        table.add_row(
            name,
            _v(m.latest_version),
            escape(_aliases(m.aliases)),
            when(m.last_update_time),
            escape(_short(m.description)),
        )
    output.console.print(table)


@models_app.command("show")
def show(name: str, as_json: bool = JSON, uri: str | None = URI) -> None:
    """A model: description, tags, aliases and its versions."""
    with client(uri) as c:
        model = c.get_registered_model(name)
        versions = c.list_model_versions(name)
    if as_json:
        return output.print_json({**jsonable(model), "versions": [jsonable(v) for v in versions]})
    con = output.console
    state = " (deleted)" if model.lifecycle_stage == "deleted" else ""
    con.print(f"[bold]{escape(model.name)}[/]{state}", soft_wrap=True)
    if model.description:
        con.print(escape(model.description), soft_wrap=True)
    con.print(f"created {when(model.creation_time)}, updated {when(model.last_update_time)}")
    con.print(f"aliases: {escape(_aliases(model.aliases)) or '-'}")
    if model.tags:
        con.print("tags: " + escape(", ".join(f"{k}={v}" for k, v in model.tags.items())))
    _versions_table(versions)


@models_app.command("versions")
def versions(
    name: str,
    deleted: bool = typer.Option(False, "--deleted", help="Only deleted versions."),
    all_: bool = typer.Option(False, "--all", help="Active and deleted versions."),
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """List the versions of model NAME."""
    with client(uri) as c:
        found = c.list_model_versions(name, _view(deleted, all_))
    if as_json:
        return output.print_json([jsonable(v) for v in found])
    _versions_table(found)


def _versions_table(found: list) -> None:
    if not found:
        return output.say("No versions.")
    fixed = [Column(h, no_wrap=True) for h in ("version", "semver", "aliases", "run", "created")]
    table = Table(*fixed, "flavor", "description")
    for v in found:
        number = str(v.version) + (" [dim](deleted)[/]" if v.lifecycle_stage == "deleted" else "")
        cells = (v.semver, ", ".join(v.aliases), (v.run_id or "")[:8])
        table.add_row(
            number,
            *(escape(x or "") for x in cells),
            when(v.creation_time)[:16],  # to the minute: the table must fit 80 columns
            escape(v.flavor or ""),
            escape(_short(v.description, 40)),
        )
    output.console.print(table)


# -- aliases ---------------------------------------------------------------------------


@models_app.command("promote")
def promote(
    name: str,
    version: str,
    alias: str = ALIAS,
    comment: str | None = COMMENT,
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """Point ALIAS of model NAME at VERSION (every move is kept: `loom models history`)."""
    with client(uri) as c:
        event = c.set_registered_model_alias(name, alias, version_number(version), comment)
    _said(event, as_json)


@models_app.command("rollback")
def rollback(
    name: str,
    alias: str = ALIAS,
    comment: str | None = COMMENT,
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """Return ALIAS to the version that held it before its last move (again: one more back)."""
    with client(uri) as c:
        event = c.rollback_registered_model_alias(name, alias, comment)
    _said(event, as_json)


@alias_app.command("delete")
def alias_delete(
    name: str,
    alias: str,
    comment: str | None = COMMENT,
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """Make ALIAS of model NAME point nowhere (its history stays)."""
    with client(uri) as c:
        event = c.delete_registered_model_alias(name, alias, comment)
    _said(event, as_json)


def _said(event: Any, as_json: bool) -> None:
    if as_json:
        return output.print_json(jsonable(event))
    move = f"{_v(event.from_version)} → {_v(event.to_version)}"
    output.console.print(
        f"{escape(event.name)}@{event.alias}: version {move} ({event.kind}).", soft_wrap=True
    )


@models_app.command("history")
def history(
    name: str,
    alias: str | None = typer.Option(None, "--alias", "-a", help="Only this alias."),
    at: str | None = typer.Option(
        None,
        "--at",
        help="Which version held each alias at this time: 2026-03-15 (end of that day), "
        "2026-03-15T12:00, …+02:00 (local time unless a zone is given).",
    ),
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """Every alias move of model NAME, oldest first; with --at, who held each alias then."""
    if at is not None:
        return _held_at(name, alias, at, as_json, uri)
    with client(uri) as c:
        events = c.get_alias_history(name, alias)
    if as_json:
        return output.print_json([jsonable(e) for e in events])
    if not events:
        return output.say(f"No alias of {name!r} was ever set.")
    table = Table(Column("time", no_wrap=True), "alias", "from", "to", "kind", "user", "comment")
    for e in events:
        cells = (e.alias, _v(e.from_version), _v(e.to_version), str(e.kind))
        table.add_row(when(e.time), *cells, escape(e.user or ""), escape(e.comment or ""))
    output.console.print(table)


def _held_at(name: str, alias: str | None, at: str, as_json: bool, uri: str | None) -> None:
    from loom.timeparse import parse_time

    time_ms = parse_time(at)
    with client(uri) as c:
        if alias is not None:
            found = c.get_model_version_at(name, alias, time_ms)
            held = {alias: found.version} if found is not None else {}
        else:
            held = c.get_aliases_at(name, time_ms)
    if as_json:
        return output.print_json({"name": name, "time": time_ms, "aliases": held})
    if not held:
        what = f"{alias!r}" if alias else "No alias"
        verb = "pointed at no version" if alias else "pointed at a version"
        return output.say(f"{what} of {name!r} {verb} at {when(time_ms)}.")
    output.console.print(f"{escape(name)} at {when(time_ms)}:", soft_wrap=True)
    table = Table("alias", "version")
    for a, v in held.items():
        table.add_row(a, str(v))
    output.console.print(table)


# -- delete, restore, describe, tag -----------------------------------------------------


@models_app.command("delete")
def delete(
    name: str,
    version: str | None = typer.Argument(None, help="A version; without it, the whole model."),
    force: bool = typer.Option(
        False, "--force", help="Delete a version even if aliases point at it (removes them)."
    ),
    uri: str | None = URI,
) -> None:
    """Delete VERSION of model NAME, or the model (soft: `loom models restore` undoes it)."""
    import shlex

    quoted = shlex.quote(name)
    with client(uri) as c:
        if version is None:
            c.delete_registered_model(name)
            return output.say(f"Deleted model {name!r}. Undo: loom models restore {quoted}")
        number = version_number(version)
        removed = c.delete_model_version(name, number, force=force)
    for e in removed:
        output.say(f"Removed alias {e.alias} (it pointed at version {number}).")
    output.say(f"Deleted version {number} of {name!r}. Undo: loom models restore {quoted} {number}")


@models_app.command("restore")
def restore(
    name: str,
    version: str | None = typer.Argument(None, help="A version; without it, the model."),
    uri: str | None = URI,
) -> None:
    """Restore a deleted VERSION of model NAME, or the deleted model."""
    with client(uri) as c:
        if version is None:
            c.restore_registered_model(name)
            return output.say(f"Restored model {name!r}.")
        number = version_number(version)
        c.restore_model_version(name, number)
    output.say(f"Restored version {number} of {name!r}.")


@models_app.command("describe")
def describe(
    name: str,
    args: list[str] = typer.Argument(..., metavar="[VERSION] TEXT", help="[VERSION] TEXT"),
    uri: str | None = URI,
) -> None:
    """Set the description of model NAME, or of its VERSION ("" clears it)."""
    version, text = _split(args, 1, "loom models describe NAME [VERSION] TEXT")
    with client(uri) as c:
        if version is None:
            c.update_registered_model(name, text[0] or None)
        else:
            c.update_model_version(name, version, text[0] or None)
    output.say(f"Described {_what(name, version)}.")


@models_app.command("tag")
def tag(
    name: str,
    args: list[str] = typer.Argument(
        ..., metavar="[VERSION] KEY VALUE", help="[VERSION] KEY VALUE"
    ),
    uri: str | None = URI,
) -> None:
    """Set tag KEY to VALUE on model NAME, or on its VERSION."""
    version, (key, value) = _split(args, 2, "loom models tag NAME [VERSION] KEY VALUE")
    with client(uri) as c:
        if version is None:
            c.set_registered_model_tag(name, key, value)
        else:
            c.set_model_version_tag(name, version, key, value)
    output.say(f"Tagged {_what(name, version)}: {key}={value}")


def _split(args: list[str], tail: int, usage: str) -> tuple[int | None, list[str]]:
    """``[VERSION] + tail values`` from the positional arguments after NAME."""
    from loom.errors import UsageError

    if len(args) == tail:
        return None, args
    if len(args) == tail + 1:
        return version_number(args[0]), args[1:]
    raise UsageError(f"Expected {usage}, got {len(args) + 1} arguments.", hint=usage)


def _what(name: str, version: int | None) -> str:
    return f"model {name!r}" if version is None else f"version {version} of {name!r}"


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
