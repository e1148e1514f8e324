"""``loom models register URI NAME``: a model package becomes the next version of NAME."""

from __future__ import annotations

import typer

from loom.cli import output
from loom.cli.models import JSON, URI, client, jsonable, models_app


def register(app: typer.Typer) -> None:
    """Add ``register`` to ``loom models`` (``app``, the root, already holds that sub-app)."""
    models_app.command("register")(register_command)


def register_command(
    model_uri: str = typer.Argument(
        ..., metavar="URI", help="runs:/RUN_ID/path, models:/m-… or models:/NAME/VERSION."
    ),
    name: str = typer.Argument(..., help="The registered model's name."),
    semver: str | None = typer.Option(None, "--semver", help="A SemVer 2.0 label, e.g. 1.2.0."),
    description: str | None = typer.Option(None, "--description", help="What this version is."),
    tags: list[str] = typer.Option([], "--tag", help="KEY=VALUE, repeatable."),
    as_json: bool = JSON,
    uri: str | None = URI,
) -> None:
    """Register the model package at URI as the next version of NAME.

    The same files again change nothing: the version that holds them is shown.
    """
    from loom.registry import api

    with client(uri) as c:
        mv, created = api.register(
            model_uri, name, semver=semver, description=description, tags=_tags(tags), client=c
        )
    if as_json:
        return output.print_json({**jsonable(mv), "created": created})
    if not created:
        output.print_warning(api.already_registered(mv, semver))
    label = f" ({mv.semver})" if mv.semver else ""
    verb = "Registered" if created else "Already registered as"
    output.say(f"{verb} {mv.name} version {mv.version}{label}: models:/{mv.name}/{mv.version}")


def _tags(pairs: list[str]) -> dict[str, str]:
    from loom.errors import UsageError

    out = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise UsageError(f"Tag {pair!r} is not KEY=VALUE.", hint="E.g. --tag team=search")
        out[key] = value
    return out
