"""Lineage tests use the tracking fixtures (a store on SQLite and on PostgreSQL) and the
data fixtures (a real git repo with a Loom workspace)."""

from __future__ import annotations

from tests.data.conftest import cli, ws  # noqa: F401
from tests.tracking.conftest import _isolated, client, pg_store_uri, store_uri  # noqa: F401
