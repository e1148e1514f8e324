"""OSErrors become one line with the path and the hint that fits their errno."""

from __future__ import annotations

import errno
import warnings

import pytest

from loom.errors import FilesystemError, LoomWarning, from_oserror, warn


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.EACCES, "permissions"),
        (errno.EROFS, "read-only"),
        (errno.ENOSPC, "space"),
        (errno.ENAMETOOLONG, "255 bytes"),
        (errno.ELOOP, "symlink"),
        (errno.EMFILE, "ulimit"),
    ],
)
def test_each_errno_gets_its_own_hint(code: int, words: str) -> None:
    err = from_oserror(OSError(code, "boom", "/data/x"), "write the pointer")
    assert isinstance(err, FilesystemError)
    assert "/data/x" in err.message and "write the pointer" in err.message
    assert words in (err.hint or "")
    assert "AWS" not in (err.hint or "")


def test_warn_carries_a_hint() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warn("careful", hint="do this")
    [w] = seen
    assert isinstance(w.message, LoomWarning) and w.message.hint == "do this"
