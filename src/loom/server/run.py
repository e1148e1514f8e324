"""Start the server: check the store, decide on auth, bind, serve until SIGTERM.

SIGTERM and Ctrl-C stop accepting connections and let requests in flight finish
(uvicorn's graceful shutdown, at most :data:`DRAIN_S` seconds) before the
process exits.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable

from loom.errors import UsageError
from loom.server.services import Services, check_schema
from loom.server.settings import ENV, ServerSettings

DRAIN_S = 30


def prepare(settings: ServerSettings, *, upgrade: bool) -> tuple[ServerSettings, str]:
    """Settings with auth decided, after the store is checked; and a line saying so."""
    from loom.server import auth

    services = Services(settings)
    try:
        schema = check_schema(services.store, upgrade=upgrade)
        users = auth.user_count(services.store)
        services.blobs  # noqa: B018 (a bad destination, or its driver missing, fails now)
    finally:
        services.close()
    if settings.insecure_no_auth:
        on = False
    elif users:
        on = True
    elif settings.loopback:
        on = False
    else:
        raise UsageError(
            f"Refusing to serve {settings.host} without auth: anyone who can reach it "
            "could read and change every run and model, and no user exists yet.",
            hint="Create an admin first (`loom server users add alice --admin`), or bind "
            "127.0.0.1, or pass --insecure-no-auth if a proxy in front does the auth.",
        )
    return dataclasses.replace(settings, auth=on), schema


def serve(settings: ServerSettings, *, upgrade: bool, say: Callable[[str], None]) -> None:
    settings, schema = prepare(settings, upgrade=upgrade)
    sock = _bind(settings.host, settings.port)
    port = sock.getsockname()[1]
    from loom.tracking.uri import redact

    say(
        f"Loom server on http://{_shown(settings.host)}:{port} "
        f"(store {redact(settings.backend_store_uri)}: {schema}; "
        f"artifacts {settings.artifacts_destination}; auth {'on' if settings.auth else 'off'}; "
        f"{settings.workers} worker{'s' if settings.workers > 1 else ''})"
    )
    sys.stdout.flush()
    configure_logging()
    import uvicorn

    common = dict(
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=DRAIN_S,
        server_header=False,
    )
    if settings.workers == 1:
        from loom.server.app import create_app

        config = uvicorn.Config(create_app(settings), **common)  # type: ignore[arg-type]
        _exit_zero_on_sigterm()
        uvicorn.Server(config).run(sockets=[sock])
        return
    from uvicorn.supervisors import Multiprocess

    os.environ[ENV] = settings.to_env()
    config = uvicorn.Config(
        "loom.server.app:app_from_env",
        factory=True,
        workers=settings.workers,
        **common,  # type: ignore[arg-type]
    )
    Multiprocess(config, sockets=[sock]).run()


def _exit_zero_on_sigterm() -> None:
    """SIGTERM is the normal way to stop a server: once drained, exit 0.

    uvicorn handles the signal, drains, then raises it again with the handler
    that was there before; the default one would end the process by the signal
    (status -15) after a clean stop, which supervisors report as a failure.
    """
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it a response written in two parts waits ~40 ms for the client's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"Cannot listen on {host}:{port}: {exc.strerror}.",
            hint="Another process may use that port; pick another with --port.",
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("loom.server.access", "loom.server"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
