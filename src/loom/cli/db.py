"""``loom db upgrade``: apply the tracking store's schema migrations."""

from __future__ import annotations

import typer

from loom.cli import output

db_app = typer.Typer(help="The tracking store's database.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(
    tracking_uri: str | None = typer.Option(
        None, "--tracking-uri", envvar="LOOM_TRACKING_URI", help="Store URI (default: resolved)."
    ),
) -> None:
    """Apply pending migrations (they also run on first use)."""
    from loom.tracking.client import Client
    from loom.tracking.uri import redact

    with Client(tracking_uri) as client:
        client.upgrade()
        output.console.print(
            f"Database at {redact(client.tracking_uri)} is up to date.", soft_wrap=True
        )


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
