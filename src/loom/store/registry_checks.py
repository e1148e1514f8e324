"""What the model registry accepts: model names, versions, aliases, semvers, descriptions.

Each check returns the value to store or raises a ValidationError that says the rule.

>>> check_alias("production")
'production'
>>> check_alias("v2")
Traceback (most recent call last):
...
loom.errors.ValidationError: Invalid alias 'v2': 'latest' and 'v<digits>' are reserved.
"""

from __future__ import annotations

import re

from loom.errors import ValidationError
from loom.store.schema import DESCRIPTION_LEN, KEY_LEN, NAME_LEN, SEMVER_LEN

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ALIAS = re.compile(r"[a-z0-9_-]+")
_RESERVED_ALIAS = re.compile(r"latest|v\d+")
# SemVer 2.0.0, the regular expression semver.org gives (numbers without leading zeros)
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
MAX_VERSION = 2**31 - 1  # an INTEGER column


def check_model_name(name: object) -> str:
    """1-500 characters, none of ``/ @ :`` nor control characters, no outer spaces: a name
    must fit in ``models:/NAME@alias``."""
    if not isinstance(name, str) or not name:
        raise ValidationError(
            f"Invalid model name {name!r}: it must be a non-empty string.",
            hint="Name models like 'rag-embedder'.",
        )
    if len(name) > NAME_LEN:
        raise ValidationError(
            f"Invalid model name {name[:40]!r}…: {len(name)} characters, the limit is {NAME_LEN}.",
            limit=NAME_LEN,
        )
    bad = next((c for c in "/@:" if c in name), None)
    if bad is not None:
        raise ValidationError(
            f"Invalid model name {name!r}: it contains {bad!r}.",
            hint="A model name can't hold '/', '@' or ':' (it must fit in models:/NAME@alias).",
            name=name,
        )
    if _CONTROL.search(name):
        raise ValidationError(f"Invalid model name {name!r}: it contains a control character.")
    if name != name.strip():
        raise ValidationError(
            f"Invalid model name {name!r}: it starts or ends with a space.",
            hint=f"Use {name.strip()!r}.",
            name=name,
        )
    return name


def check_version(version: object) -> int:
    """A version number: a positive int (or a string of digits, as URIs and forms give it)."""
    number: int | None = None
    if isinstance(version, int) and not isinstance(version, bool):
        number = version
    elif isinstance(version, str) and version.isascii() and version.isdigit():
        number = int(version)
    if number is None or not 1 <= number <= MAX_VERSION:
        raise ValidationError(
            f"Invalid model version {version!r}: versions are whole numbers 1, 2, 3 …",
            hint="`loom models versions NAME` lists them.",
            version=str(version),
        )
    return number


def check_alias(alias: object) -> str:
    """Lowercase letters, digits, ``_`` and ``-``; not ``latest`` nor ``v<digits>``."""
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise ValidationError(
            f"Invalid alias {alias!r}: use lowercase letters, digits, '_' and '-'.",
            hint="For example: production, staging, champion-2026.",
            alias=str(alias),
        )
    if len(alias) > KEY_LEN:
        raise ValidationError(
            f"Invalid alias {alias[:40]!r}…: {len(alias)} characters, the limit is {KEY_LEN}.",
            limit=KEY_LEN,
        )
    if _RESERVED_ALIAS.fullmatch(alias):
        raise ValidationError(
            f"Invalid alias {alias!r}: 'latest' and 'v<digits>' are reserved.",
            hint="They name versions (models:/NAME/latest, v3): pick another, e.g. production.",
            alias=alias,
        )
    return alias


def check_semver(semver: object) -> str | None:
    """A SemVer 2.0 version string such as ``1.2.0`` or ``2.0.0-rc.1``, or None."""
    if semver is None:
        return None
    if not isinstance(semver, str) or len(semver) > SEMVER_LEN or not _SEMVER.fullmatch(semver):
        raise ValidationError(
            f"Invalid semantic version {semver!r}: expected MAJOR.MINOR.PATCH (SemVer 2.0).",
            hint="For example 1.2.0, 2.0.0-rc.1 or 1.0.0+build.5 (no leading 'v').",
            semver=str(semver),
        )
    return semver


def check_description(text: object) -> str | None:
    """Up to 5000 characters of text, or None."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValidationError(f"A description must be text, got {type(text).__name__}.")
    if len(text) > DESCRIPTION_LEN:
        raise ValidationError(
            f"The description has {len(text)} characters, the limit is {DESCRIPTION_LEN}.",
            hint="Keep long notes in a file logged with the run.",
            limit=DESCRIPTION_LEN,
        )
    if "\x00" in text:
        raise ValidationError("The description contains a NUL character.")
    return text


def check_comment(text: object) -> str | None:
    """An alias move's comment: the same limits as a description."""
    try:
        return check_description(text)
    except ValidationError as exc:
        raise ValidationError(
            exc.message.replace("description", "comment"), hint=exc.hint
        ) from None


def check_text_field(what: str, value: object, limit: int) -> str:
    """A required short text (a model source, a flavor): 1..limit characters, no control ones."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"Invalid {what} {value!r}: it must be a non-empty string.")
    if len(value) > limit:
        raise ValidationError(
            f"Invalid {what} {value[:40]!r}…: {len(value)} characters, the limit is {limit}.",
            limit=limit,
        )
    if _CONTROL.search(value):
        raise ValidationError(f"Invalid {what} {value!r}: it contains a control character.")
    return value
