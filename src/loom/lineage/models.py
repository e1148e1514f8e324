"""From ``models:/…`` to a version, and a version to the run and data that made it.

The URI forms are those of ``loom.registry.uri`` (registry.md): ``models:/NAME/3``,
``models:/NAME@alias``, ``models:/NAME/latest``, ``models:/m-<32 hex>``. Registered
names hold no ``/``, ``@`` nor ``:``, so splitting on them is unambiguous.

    >>> version_ref("3"), version_ref("latest"), version_ref("production")
    (3, 'latest', '@production')
"""

from __future__ import annotations

import re

from loom.entities import ModelVersion
from loom.errors import ValidationError
from loom.tracking.client import Client

FORMS = "models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/latest or models:/m-<32 hex>"
_LOGGED = re.compile(r"m-[0-9a-f]{32}")


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


def parse_model_uri(uri: str) -> tuple[str, int | str]:
    """``(name, ref)`` of a ``models:/`` URI, or ``("", model_id)`` for a logged model."""
    rest = uri.removeprefix("models:/")
    if _LOGGED.fullmatch(rest):
        return "", rest
    if "@" in rest:
        name, _, alias = rest.partition("@")
        ref: int | str = "@" + alias
    elif "/" in rest:
        name, _, number = rest.rpartition("/")
        ref = "latest" if number == "latest" else version_ref(number)
        if isinstance(ref, str) and ref != "latest":
            raise _bad(uri, f"{number!r} is not a version number")
    else:
        raise _bad(uri, "it names no version")
    if not name or "/" in name or ":" in name or (isinstance(ref, str) and ref in ("@", "")):
        raise _bad(uri, "the name or the alias is empty or holds '/' or ':'")
    return name, ref


def version_for_uri(client: Client, uri: str) -> ModelVersion:
    name, ref = parse_model_uri(uri)
    if not name:
        raise ValidationError(
            f"{uri} is a logged model, not a registered version.",
            hint="Trace its run instead: `loom lineage RUN_ID` "
            "(`loom runs show` lists the run's models).",
            uri=uri,
        )
    return get_version(client, name, ref)


def _bad(uri: str, why: str) -> ValidationError:
    return ValidationError(f"Malformed model URI {uri!r}: {why}.", hint=f"Use {FORMS}.", uri=uri)
