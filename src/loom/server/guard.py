"""What every request must pass before auth: the Host header, cross-site writes.

- **DNS rebinding**: a page on ``evil.example`` whose name is re-pointed at
  127.0.0.1 reaches the server with ``Host: evil.example``. Only IP literals,
  ``localhost``, the machine's own names, the name bound to and ``--allowed-hosts``
  are served; anything else is a 403.
- **CSRF**: a browser sends cross-site writes without a preflight only as
  ``text/plain``, form or multipart bodies; writes here must be JSON (uploads:
  a PUT, which no browser sends cross-site unasked), and a write whose
  ``Origin`` or ``Sec-Fetch-Site`` says another site is a 403 unless that origin
  is listed in ``--cors-origins``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from loom.errors import LoomError
from loom.server.http import Request
from loom.server.settings import ServerSettings

WRITES = ("POST", "PUT", "PATCH", "DELETE")


class Forbidden(LoomError):
    code = "PERMISSION_DENIED"
    http_status = 403


class Guard:
    def __init__(self, settings: ServerSettings) -> None:
        names = {"localhost", "localhost.", settings.host.lower()}
        names.update(h.lower() for h in settings.allowed_hosts)
        try:
            names.add(socket.gethostname().lower())
            names.add(socket.getfqdn().lower())
        except OSError:
            pass
        self.names = frozenset(n for n in names if n)
        self.any_host = "*" in names
        self.origins = frozenset(o.rstrip("/").lower() for o in settings.cors_origins)

    def check(self, request: Request) -> None:
        self._host(request)
        if request.method in WRITES:
            self._write(request)

    def _host(self, request: Request) -> None:
        host = host_name(request.headers.get("host", ""))
        if self.any_host or host in self.names or _is_ip(host):
            return
        raise Forbidden(
            f"Host {host or '(none)'!r} is not a name this server answers to.",
            hint="Reach it by its address or add the name with `loom server --allowed-hosts`.",
        )

    def _write(self, request: Request) -> None:
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        if origin and origin != "null":
            if not same_origin(origin, host) and origin.rstrip("/").lower() not in self.origins:
                raise Forbidden(
                    f"A write from the web page at {origin} is refused (cross-site request).",
                    hint="Allow that origin with `loom server --cors-origins` if you trust it.",
                )
        elif origin == "null" or request.headers.get("sec-fetch-site") in _OTHER_SITES:
            raise Forbidden(
                "A cross-site write from a browser is refused.",
                hint="Call the API from a client, or from a page the server serves.",
            )
        if request.method == "PUT" and request.path.startswith(_UPLOAD_PREFIXES):
            return  # artifact bytes, any content type (a browser can't PUT cross-site unasked)
        kind = request.content_type
        # a page may POST a body with no Content-Type at all without a preflight: only
        # body-less writes (DELETE ?name=…) may leave it out
        if kind == "application/json" or (kind == "" and not _has_body(request)):
            return
        raise Forbidden(
            f"Writes must send JSON; this one is {kind or 'without a Content-Type'!r}.",
            hint="Set Content-Type: application/json.",
        )


_OTHER_SITES = ("cross-site", "same-site")  # same-site: another origin of the same site


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length", "").strip()
    return "transfer-encoding" in request.headers or (length not in ("", "0"))


def same_origin(origin: str, host_header: str) -> bool:
    """Whether a browser's ``Origin`` names this server as the client reached it: the
    same host name and port (a page on another port of the same machine is another
    site)."""
    parts = urlsplit(origin.strip().lower())
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if default is None:
        return False
    try:
        origin_port = parts.port or default
        host_port = urlsplit("//" + host_header.strip().lower()).port or default
    except ValueError:
        return False
    return bool(parts.hostname) and (
        host_name(parts.netloc) == host_name(host_header) and origin_port == host_port
    )


_UPLOAD_PREFIXES = ("/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/", "/api/v1/")


def host_name(header: str) -> str:
    """The name in a Host header or netloc, without port, lower-cased."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
