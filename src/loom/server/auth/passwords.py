"""Passwords: argon2id hashes, the rules for names and passwords.

Verifying costs tens of milliseconds on purpose (it is what makes a stolen
hash expensive to guess); :mod:`loom.server.auth.credentials` caches what it
verified so a signed-in client pays it once per process.
"""

from __future__ import annotations

import functools
import re

from loom.errors import ValidationError

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # hashing a megabyte per guess would be a cheap denial of service
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")


@functools.cache
def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, RFC 9106's low-memory profile


def hash_password(password: str) -> str:
    check_password(password)
    return str(_hasher().hash(password))


def verify(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches; False (never an exception) for any mismatch."""
    from argon2.exceptions import InvalidHashError, VerificationError

    if len(password) > MAX_PASSWORD:
        return False
    try:
        return bool(_hasher().verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A hash no password is checked against for real: an unknown user costs the
    same verify as a known one, so timing doesn't tell which names exist."""
    import secrets

    return str(_hasher().hash(secrets.token_urlsafe(16)))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"A password needs at least {MIN_PASSWORD} characters.",
            hint="Use a password manager's generated password, or an API token for programs.",
        )
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"A password may have at most {MAX_PASSWORD} characters.")


def check_user_name(name: str) -> str:
    """A user name: letters, digits and ``. _ @ + -``, up to 128; never a ``:``, which
    HTTP basic auth uses to split name from password."""
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"Invalid user name {name!r}.",
            hint="Use 1-128 letters, digits and . _ @ + - (starting with a letter or digit).",
        )
    return name


def check_token_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"Invalid token name {name!r}.",
            hint="Use 1-128 letters, digits and . _ @ + - (say, the machine or job using it).",
        )
    return name
