"""The server's settings: where the store and artifacts live, where it listens, auth.

>>> s = ServerSettings(backend_store_uri="sqlite:////tmp/x/loom.db")
>>> s.auth_required
False
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass, field

ENV = "LOOM_SERVER_SETTINGS"  # how `--workers N` hands settings to its worker processes


@dataclass(frozen=True)
class ServerSettings:
    backend_store_uri: str
    artifacts_destination: str = ""  # a local folder or s3://bucket/prefix; "" = ./mlartifacts
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    auth: bool | None = None  # None: on unless bound to loopback
    insecure_no_auth: bool = False
    allowed_hosts: tuple[str, ...] = ()  # extra names the Host header may carry
    cors_origins: tuple[str, ...] = ()  # origins whose browser writes are allowed
    default_permission: str = "READ"  # what a user may do where no grant says otherwise
    s3_endpoint_url: str | None = None
    access_log: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def auth_required(self) -> bool:
        """Auth is on unless switched off, and off by default only on loopback."""
        if self.auth is not None:
            return self.auth
        return not self.loopback and not self.insecure_no_auth

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServerSettings:
        raw = json.loads(os.environ[ENV])
        for key in ("allowed_hosts", "cors_origins"):
            raw[key] = tuple(raw.get(key) or ())
        return cls(**raw)


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.", ""):
        return host != ""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
