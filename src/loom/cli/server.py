"""``loom server``: the team server (MLflow's REST API, Loom's API, auth)."""

from __future__ import annotations

import typer

from loom.cli import output
from loom.cli.server_users import STORE

server_app = typer.Typer(
    help="The team server: MLflow clients and Loom clients share one store.",
    invoke_without_command=True,
)


@server_app.callback()
def server(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(
        5000, "--port", "-p", min=0, max=65535, help="Port to listen on (0: any free)."
    ),
    backend_store_uri: str | None = STORE,
    artifacts_destination: str | None = typer.Option(
        None,
        "--artifacts-destination",
        envvar="LOOM_ARTIFACTS_DESTINATION",
        metavar="DEST",
        help="A folder or s3://bucket/prefix for artifact bytes (default: ./mlartifacts).",
    ),
    workers: int = typer.Option(1, "--workers", "-w", help="Server processes.", min=1),
    upgrade: bool = typer.Option(False, "--upgrade", help="Migrate an older store first."),
    insecure_no_auth: bool = typer.Option(
        False, "--insecure-no-auth", help="Serve without auth on a non-loopback address."
    ),
    allowed_hosts: list[str] = typer.Option(
        [], "--allowed-hosts", metavar="NAME", help="Extra host names clients may use ('*': any)."
    ),
    cors_origins: list[str] = typer.Option(
        [], "--cors-origins", metavar="ORIGIN", help="Web origins whose browser writes are allowed."
    ),
    default_permission: str = typer.Option(
        "READ",
        "--default-permission",
        metavar="LEVEL",
        help="A user's level where no grant says otherwise: READ, EDIT, MANAGE or NO_PERMISSIONS.",
    ),
) -> None:
    """Serve the tracking store and registry over HTTP (MLflow-compatible)."""
    if ctx.invoked_subcommand is not None:
        return
    from loom.errors import UsageError
    from loom.server.run import serve
    from loom.server.settings import ServerSettings

    level = default_permission.upper()
    if level not in ("READ", "EDIT", "MANAGE", "NO_PERMISSIONS"):
        raise UsageError(
            f"Unknown --default-permission {default_permission!r}.",
            hint="Use READ, EDIT, MANAGE or NO_PERMISSIONS.",
        )

    settings = ServerSettings(
        backend_store_uri=_store_uri(backend_store_uri),
        artifacts_destination=_destination(artifacts_destination),
        host=host,
        port=port,
        workers=workers,
        insecure_no_auth=insecure_no_auth,
        allowed_hosts=tuple(allowed_hosts),
        cors_origins=tuple(cors_origins),
        default_permission=level,
        s3_endpoint_url=_s3_endpoint(),
    )
    serve(settings, upgrade=upgrade, say=output.say)


def _store_uri(uri: str | None) -> str:
    from pathlib import Path

    from loom.tracking.uri import normalize, sqlite_uri

    return normalize(uri) if uri else sqlite_uri(Path.cwd() / "loom.db")


def _destination(value: str | None) -> str:
    from pathlib import Path

    if not value:
        return str(Path.cwd() / "mlartifacts")
    return value if "://" in value else str(Path(value).absolute())


def _s3_endpoint() -> str | None:
    import os

    return os.environ.get("LOOM_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL") or None


def register(app: typer.Typer) -> None:
    from loom.cli import server_users

    server_users.register(server_app)
    app.add_typer(server_app, name="server")
