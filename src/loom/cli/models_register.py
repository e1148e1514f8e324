"""``loom models register URI NAME``: a model package becomes the next version of NAME."""

from __future__ import annotations

import dataclasses

import typer

from loom.cli import output


def register(app: typer.Typer) -> None:
    """Add ``register`` to the ``loom models`` sub-app (``app`` is the root, unused)."""
    from loom.cli.models import models_app

    models_app.command("register")(register_command)


def register_command(
    model_uri: str = typer.Argument(
        ..., metavar="URI", help="runs:/RUN_ID/path, models:/m-<id> or models:/NAME/VERSION."
    ),
    name: str = typer.Argument(..., help="The registered model's name."),
    semver: str | None = typer.Option(None, "--semver", help="A SemVer 2.0 label, e.g. 1.2.0."),
    description: str | None = typer.Option(None, "--description", help="What this version is."),
    tags: list[str] = typer.Option([], "--tag", help="KEY=VALUE, repeatable."),
    as_json: bool = typer.Option(False, "--json", help=output.JSON_HELP),
    uri: str | None = typer.Option(
        None, "--tracking-uri", envvar="LOOM_TRACKING_URI", help="Store URI (default: resolved)."
    ),
) -> None:
    """Register the model package at URI as the next version of NAME (idempotent: the same
    files again give back the version that holds them)."""
    from loom.registry import api
    from loom.tracking.client import Client

    with Client(uri) as client:
        mv, created = api.register(
            model_uri,
            name,
            semver=semver,
            description=description,
            tags=_tags(tags),
            client=client,
        )
    if as_json:
        return output.print_json({**dataclasses.asdict(mv), "created": created})
    if not created:
        output.print_warning(api.already_registered(mv, semver), None)
    label = f" ({mv.semver})" if mv.semver else ""
    verb = "Registered" if created else "Already registered:"
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
