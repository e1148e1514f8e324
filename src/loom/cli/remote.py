"""``loom remote add|list|remove|default``: where push and pull send and fetch objects."""

from __future__ import annotations

from pathlib import Path

import typer

from loom.cli import output

remote_app = typer.Typer(help="Manage remotes (local folders, s3://, gs://, azure://).")
LOCAL = typer.Option(
    False, "--local", help="Edit .loom/config.local.toml (not committed) instead of config.toml."
)


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
    local: bool = LOCAL,
) -> None:
    """Add a remote (saved in .loom/config.toml, which is committed, or with --local in
    .loom/config.local.toml, which is not and so survives checking out old commits)."""
    from loom.data.remotes import add_remote

    r = add_remote(
        _ws(), name, url, default=default, endpoint_url=endpoint_url, force=force, local=local
    )
    suffix = " (default)" if r.default else ""
    where = ".loom/config.local.toml" if local else ".loom/config.toml"
    output.console.print(f"Remote {name} -> {url}{suffix}, saved in {where}", markup=False)


@remote_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help=output.JSON_HELP)) -> None:
    """List remotes and where each comes from; the default one is marked.

    The environment (e.g. LOOM_REMOTE_STORAGE_URL) wins over .loom/config.local.toml, which wins
    over .loom/config.toml.
    """
    from loom.data.remotes import list_remotes

    remotes = list_remotes(_ws())
    if as_json:
        output.print_json([r.as_dict() for r in remotes])
        return
    for r in remotes:
        mark = "*" if r.default else " "
        endpoint = f"  (endpoint {r.endpoint_url})" if r.endpoint_url else ""
        origin = r.where if r.source == "env" else Path(r.where).name
        output.console.print(f"{mark} {r.name}\t{r.url}{endpoint}\t[{origin}]", markup=False)


@remote_app.command("remove")
def remove(name: str = typer.Argument(..., help="Remote to remove."), local: bool = LOCAL) -> None:
    """Remove a remote from the configuration (its data stays where it is)."""
    from loom.data.remotes import remove_remote

    remove_remote(_ws(), name, local=local)
    output.console.print(f"Removed remote {name}.")


@remote_app.command("default")
def default(
    name: str = typer.Argument(..., help="Remote to use when -r is not given."),
    local: bool = LOCAL,
) -> None:
    """Set the default remote (LOOM_REMOTE=NAME overrides it for one shell)."""
    from loom.data.remotes import set_default

    set_default(_ws(), name, local=local)
    output.console.print(f"Default remote: {name}")


def register(app: typer.Typer) -> None:
    app.add_typer(remote_app, name="remote")
