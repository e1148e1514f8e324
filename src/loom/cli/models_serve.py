"""``loom models serve URI``: the model behind HTTP (MLflow's scoring protocol)."""

from __future__ import annotations

import typer

from loom.cli import output

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def serve(
    uri: str = typer.Argument(..., help="models:/NAME@ALIAS, models:/NAME/3, runs:/ID/model …"),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(5001, "--port", "-p", help="Port to listen on."),
    trusted: bool = typer.Option(
        False, "--trusted", help="Allow a pickle or code in the package (it runs that code)."
    ),
    tracking_uri: str | None = typer.Option(
        None, "--tracking-uri", envvar="LOOM_TRACKING_URI", help="Store URI (default: resolved)."
    ),
) -> None:
    """Serve a model: POST /invocations, GET /health, GET /metadata."""
    from loom.errors import NotFoundError, warn
    from loom.registry import serve as serving
    from loom.registry.api import load_model
    from loom.tracking.client import Client

    sock = serving.bind(host, port)  # first: a busy port fails before seconds of loading
    try:
        with Client(tracking_uri) as client:
            model = load_model(uri, trusted=trusted, client=client)
            run = None
            if model.metadata.run_id:
                try:
                    run = client.get_run(model.metadata.run_id)
                except NotFoundError:
                    run = None  # a package whose run lives in another store
            app = serving.ScoringApp(model, serving.describe(model, run))
    except BaseException:
        sock.close()
        raise
    if host not in LOOPBACK:
        warn(
            f"Serving on {host}: anyone who can reach it can call the model (no auth).",
            hint="Bind 127.0.0.1 and put a proxy with authentication in front.",
        )
    shown = f"[{host}]" if ":" in host else host
    output.say(f"Serving {uri} on http://{shown}:{port} (POST /invocations). Ctrl-C stops.")
    try:
        serving.serve(app, sock)
    finally:
        sock.close()


def register(app: typer.Typer) -> None:
    from loom.cli.models import models_app

    models_app.command("serve")(serve)
