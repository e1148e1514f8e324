"""Times people type, as epoch milliseconds: a bare date is the end of that day."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest

from loom.errors import ValidationError
from loom.timeparse import format_time, parse_time

UTC = dt.UTC
NOON = 1_773_576_000_000  # 2026-03-15T12:00Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-15T12:00Z", NOON),
        ("2026-03-15T12:00:00+00:00", NOON),
        ("2026-03-15T14:00+02:00", NOON),
        ("2026-03-15 12:00", NOON),
        ("2026-03-15T12:00:00.001", NOON + 1),
        ("2026-03-15", NOON + 12 * 3600_000 - 1),  # the end of that day
        ("  2026-03-15T12:00Z ", NOON),
    ],
)
def test_accepted_forms(text: str, expected: int) -> None:
    assert parse_time(text, tz=UTC) == expected


def test_a_zone_given_in_the_text_wins_over_the_default() -> None:
    plus2 = dt.timezone(dt.timedelta(hours=2))
    assert parse_time("2026-03-15T12:00Z", tz=plus2) == NOON
    assert parse_time("2026-03-15T14:00", tz=plus2) == NOON


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset")
def test_without_a_zone_it_is_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Paris")  # UTC+1 in March, before the switch to summer
    time.tzset()
    try:
        assert parse_time("2026-03-15T13:00") == NOON
        assert parse_time("2026-03-15") == NOON + 11 * 3600_000 - 1
        # the day summer time starts has 23 hours: its end is still 23:59:59.999 local
        assert parse_time("2026-03-29") == parse_time("2026-03-29T21:59:59.999Z")
        assert format_time(NOON) == "2026-03-15 13:00:00"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert os.environ.get("TZ") is None


def test_now_is_now() -> None:
    assert abs(parse_time("now") - time.time() * 1000) < 5000


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "yesterday",
        "2026-13-01",
        "2026-03-15T25:00",
        "15/03/2026",
        "9999-12-31",
        "1700000000000",
    ],
)
def test_bad_times_say_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_time(text)
    assert "2026-03-15" in (info.value.hint or "")
