"""Times people type ("2026-03-15", "2026-03-15T12:00", "…+02:00", "now") as epoch ms.

A bare date means the END of that day (23:59:59.999): "which version was in
production on March 15th" is answered by the state at the close of that day.
A time without a zone is local time; ``Z`` or ``+HH:MM`` give the zone.

>>> from datetime import timezone
>>> parse_time("1970-01-02T00:00Z")
86400000
>>> parse_time("1970-01-01", tz=timezone.utc)
86399999
"""

from __future__ import annotations

import datetime as dt
import re
import time

from loom.errors import ValidationError

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HINT = (
    "Give a date or a time: 2026-03-15 (the end of that day), 2026-03-15T12:00, "
    "2026-03-15 12:00:30, 2026-03-15T12:00Z or 2026-03-15T12:00+02:00 (local time "
    "unless a zone is given), or now."
)


def parse_time(text: str, *, tz: dt.tzinfo | None = None) -> int:
    """Milliseconds since the epoch for ``text``; ValidationError saying the accepted forms.

    ``tz`` is the zone of times given without one (default: this machine's local zone).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("No time given.", hint=_HINT)
    value = text.strip()
    if value.lower() == "now":
        return int(time.time() * 1000)
    try:
        if _DATE.fullmatch(value):
            day = dt.date.fromisoformat(value)
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
            return _epoch_ms(end, tz) - 1
        moment = dt.datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise ValidationError(f"Can't read {text!r} as a date or time.", hint=_HINT) from None
    return _epoch_ms(moment, tz)


def _epoch_ms(moment: dt.datetime, tz: dt.tzinfo | None) -> int:
    if moment.tzinfo is None:
        # astimezone() on a naive time reads it as local time (DST included)
        moment = moment.replace(tzinfo=tz) if tz is not None else moment.astimezone()
    try:
        return (moment - _EPOCH) // dt.timedelta(milliseconds=1)  # exact: no float rounding
    except (OverflowError, OSError, ValueError):
        raise ValidationError(
            f"The time {moment.isoformat()} is out of range.", hint=_HINT
        ) from None


def format_time(ms: int | None) -> str:
    """Epoch ms as local ``YYYY-MM-DD HH:MM:SS`` (empty for None): how tables show times."""
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")
