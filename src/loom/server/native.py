"""Loom's own API under ``/api/v1`` (placeholder): a FastAPI app with OpenAPI at /docs."""

from __future__ import annotations

from typing import Any


def create_native_app(services: Any) -> Any:
    from fastapi import FastAPI

    return FastAPI(title="Loom", openapi_url="/api/v1/openapi.json", docs_url="/docs")
