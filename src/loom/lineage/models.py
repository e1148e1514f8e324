"""From ``models:/…`` to a version, and a version to the run and data that made it.

URIs are parsed by ``loom.registry.uri``, the one rule for them.

    >>> version_ref("3"), version_ref("latest"), version_ref("production")
    (3, 'latest', '@production')
"""

from __future__ import annotations

from loom.entities import ModelVersion
from loom.errors import ValidationError
from loom.registry import uri as uris
from loom.tracking.client import Client


def version_ref(text: str) -> int | str:
    """A version as people name it: a number, ``latest``, or an alias (``@`` optional)."""
    if text.isascii() and text.isdigit():
        from loom.store.registry_checks import check_version

        return check_version(text)
    return text if text == "latest" else "@" + text.removeprefix("@")


def get_version(client: Client, name: str, ref: int | str) -> ModelVersion:
    """The version ``ref`` (from :func:`version_ref`) of ``name``; NotFoundError naming
    what exists, from the registry."""
    if isinstance(ref, int):
        return client.get_model_version(name, ref)
    if ref == "latest":
        return client.get_latest_version(name)
    return client.get_model_version_by_alias(name, ref.removeprefix("@"))


def version_for_uri(client: Client, uri: str) -> ModelVersion:
    """The registered version a ``models:/`` URI names (the registry's one URI rule)."""
    parsed = uris.parse(uri)
    if isinstance(parsed, uris.VersionURI):
        return client.get_model_version(parsed.name, parsed.version)
    if isinstance(parsed, uris.AliasURI):
        return client.get_model_version_by_alias(parsed.name, parsed.alias)
    if isinstance(parsed, uris.LatestURI):
        return client.get_latest_version(parsed.name)
    raise ValidationError(
        f"{uri} is a logged model or a run's artifact, not a registered version.",
        hint="Trace its run instead: `loom lineage RUN_ID` "
        "(`loom runs show` lists the run's models).",
        uri=uri,
    )
