"""``loom remote add|list|remove|default``: where push and pull send and fetch objects."""

from __future__ import annotations

import typer

from loom.cli import output

remote_app = typer.Typer(help="Manage remotes (local folders, s3://, gs://, azure://).")


def _ws():
    from loom.data.workspace import Workspace

    return Workspace.find()


@remote_app.command("add")
def add(
    name: str = typer.Argument(..., help="Short name, e.g. storage."),
    url: str = typer.Argument(..., help="s3://bucket/path, a local folder, gs://, azure://."),
    default: bool = typer.Option(False, "-d", "--default", help="Make it the default remote."),
    endpoint_url: str | None = typer.Option(
        None, "--endpoint-url", help="S3-compatible endpoint, e.g. http://127.0.0.1:9000."
    ),
    force: bool = typer.Option(False, "-f", "--force", help="Replace a remote of that name."),
) -> None:
    """Add a remote (saved in .loom/config.toml, which is committed)."""
    from loom.data.remotes import add_remote

    r = add_remote(_ws(), name, url, default=default, endpoint_url=endpoint_url, force=force)
    suffix = " (default)" if r.default else ""
    output.console.print(f"Remote {r.name} -> {r.url}{suffix}")


@remote_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help=output.JSON_HELP)) -> None:
    """List remotes; the default one is marked."""
    from loom.data.remotes import list_remotes

    remotes = list_remotes(_ws())
    if as_json:
        output.print_json([r.as_dict() for r in remotes])
        return
    for r in remotes:
        mark = "*" if r.default else " "
        endpoint = f"  (endpoint {r.endpoint_url})" if r.endpoint_url else ""
        output.console.print(f"{mark} {r.name}\t{r.url}{endpoint}", markup=False)


@remote_app.command("remove")
def remove(name: str = typer.Argument(..., help="Remote to remove.")) -> None:
    """Remove a remote from the configuration (its data stays where it is)."""
    from loom.data.remotes import remove_remote

    remove_remote(_ws(), name)
    output.console.print(f"Removed remote {name}.")


@remote_app.command("default")
def default(name: str = typer.Argument(..., help="Remote to use when -r is not given.")) -> None:
    """Set the default remote."""
    from loom.data.remotes import set_default

    set_default(_ws(), name)
    output.console.print(f"Default remote: {name}")


def register(app: typer.Typer) -> None:
    app.add_typer(remote_app, name="remote")
