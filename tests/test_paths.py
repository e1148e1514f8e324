"""The one rule for relative paths from outside: checked, never normalised."""

from __future__ import annotations

import pytest

from loom import paths
from loom.errors import ValidationError

GOOD = ["a", "a/b.txt", "reports/2026 summary.html", "ü/名前", "a.b/c..d", "...", "x" * 255]
BAD = [
    "",
    "/etc/passwd",
    "../x",
    "a/../../x",
    "a/./b",
    "./a",
    "a//b",
    "a/",
    "a\0b",
    "a\\..\\b",
    "a\nb",
    "a\x1b[31m",
    "x" * 256,
    "a/" + "é" * 128,  # 256 bytes of UTF-8
    "bad\udcff",  # a surrogate-escaped byte: not UTF-8
    None,
    b"a",
]


@pytest.mark.parametrize("path", GOOD)
def test_safe_paths_pass_unchanged(path: str) -> None:
    assert paths.check_relative(path) == path


@pytest.mark.parametrize("path", BAD, ids=repr)
def test_unsafe_paths_are_refused_with_a_reason(path: object) -> None:
    with pytest.raises(ValidationError) as exc:
        paths.check_relative(path, "artifact path")
    assert "artifact path" in exc.value.message and exc.value.hint


def test_names_on_disk_may_hold_backslashes_and_newlines_but_not_dot_dot() -> None:
    assert paths.problem("a\\b/c\nd", strict=False) is None
    assert paths.problem("a/../b", strict=False) == "it has a '..' part"
    assert paths.problem("a\0", strict=False) == "it contains a NUL character"


def test_check_name_refuses_a_path() -> None:
    assert paths.check_name("raw") == "raw"
    with pytest.raises(ValidationError):
        paths.check_name("data/raw")


def test_join_and_is_inside() -> None:
    assert paths.join("reports/", "a.txt") == "reports/a.txt"
    assert paths.join(None, "a.txt") == "a.txt"
    assert paths.is_inside("data", "data/x") and paths.is_inside("data", "data")
    assert not paths.is_inside("data", "data2/x")


def test_every_caller_shares_the_rule() -> None:
    """Artifacts, the store and tree objects refuse the same unsafe paths."""
    from loom.errors import CorruptObjectError
    from loom.store.entities import Artifact
    from loom.store.validation import validate_artifacts
    from loom.tracking.artifacts import artifact_path

    for bad in ("a//b", "./a", "../x"):
        with pytest.raises(ValidationError):
            artifact_path(None, bad)
        with pytest.raises(ValidationError):
            validate_artifacts([Artifact(bad, "ab" * 32, 1)])
    from loom.data.trees import _check_path

    with pytest.raises(CorruptObjectError):
        _check_path("a//b", "ab" * 32, "data.loom")
