"""Limits every client gets, checked in the store; errors name the key and the limit.

>>> validate_key("lr", "param")
>>> validate_key("a..b", "param")
Traceback (most recent call last):
...
loom.errors.ValidationError: Invalid param key 'a..b': it contains '..'.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence

from loom import paths
from loom.errors import NotFoundError, ValidationError
from loom.store.entities import Artifact, Metric, RunInput
from loom.store.schema import KEY_LEN, NAME_LEN, PARAM_LEN, TAG_LEN

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RUN_ID = re.compile(r"[0-9a-f]{32}")
_HASH = re.compile(r"[0-9a-z]{1,128}")
ARTIFACT_PATH_LEN = 1000  # the column's width


def _check_text(what: str, value: str) -> None:
    if "\x00" in value:
        raise ValidationError(f"Invalid {what} {value!r}: it contains a NUL character.")
    if _CONTROL.search(value):
        raise ValidationError(f"Invalid {what} {value!r}: it contains a control character.")


def validate_key(key: object, kind: str) -> None:
    """Check a metric/param/tag key: 1-250 characters, no '..', NUL or control characters."""
    if not isinstance(key, str) or not key:
        raise ValidationError(
            f"Invalid {kind} key {key!r}: it must be a non-empty string.", kind=kind
        )
    if len(key) > KEY_LEN:
        raise ValidationError(
            f"Invalid {kind} key {key[:40]!r}…: {len(key)} characters, the limit is {KEY_LEN}.",
            hint="Use a shorter key.",
            key=key,
            limit=KEY_LEN,
        )
    _check_text(f"{kind} key", key)
    if ".." in key:
        raise ValidationError(f"Invalid {kind} key {key!r}: it contains '..'.", key=key)
    if key.startswith("/"):
        raise ValidationError(f"Invalid {kind} key {key!r}: it starts with '/'.", key=key)


def _validate_value(kind: str, key: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(
            f"Invalid {kind} {key!r}: the value must be a string, got {type(value).__name__}.",
            key=key,
        )
    if len(value) > limit:
        raise ValidationError(
            f"Invalid {kind} {key!r}: the value has {len(value)} characters, the limit is {limit}.",
            hint=f"Store long {kind} values as an artifact instead.",
            key=key,
            limit=limit,
        )
    if "\x00" in value:
        raise ValidationError(f"Invalid {kind} {key!r}: the value contains a NUL character.")
    return value


def validate_params(params: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for key, value in params.items():
        validate_key(key, "param")
        out[key] = _validate_value("param", key, value, PARAM_LEN)
    return out


def validate_tags(tags: Mapping[str, str] | None, kind: str = "tag") -> dict[str, str]:
    out = {}
    for key, value in (tags or {}).items():
        validate_key(key, kind)
        out[key] = _validate_value(kind, key, value, TAG_LEN)
    return out


METRIC_COLUMNS = ("run_id", "key", "value", "is_nan", "timestamp", "step")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # steps and timestamps are BIGINT columns


def metric_number(key: str, value: object) -> float:
    """``value`` as a float; ValidationError naming ``key`` for text, bools and huge ints."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(
            f"Invalid metric {key!r}: the value {value!r} is not a number.",
            hint="Log numbers as metrics and strings as params or tags.",
            key=key,
        )
    try:
        return float(value)
    except OverflowError:  # an int beyond ±1.8e308: float() can't hold it
        raise ValidationError(
            f"Invalid metric {key!r}: the value {value} is too large for a float.",
            hint="Log a value within ±1.8e308 (or its logarithm).",
            key=key,
        ) from None


def metric_integer(key: str, field: str, value: object) -> int:
    """A step or timestamp as an int: integers and integral floats (2.0) pass, 1.5 doesn't,
    and the result must fit the 64-bit column."""
    whole = isinstance(value, numbers.Integral) or (
        isinstance(value, numbers.Real) and _integral(value)
    )
    if whole and not isinstance(value, bool):
        number = int(value)  # type: ignore[call-overload]
    else:
        raise ValidationError(
            f"Invalid metric {key!r}: {field} {value!r} is not an integer.",
            hint=f"Pass a whole number as {field} (it is stored exactly, never rounded).",
            key=key,
        )
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValidationError(
            f"Invalid metric {key!r}: {field} {number} does not fit in 64 bits.",
            hint=f"Keep {field} between -2**63 and 2**63 - 1.",
            key=key,
        )
    return number


def _integral(value: numbers.Real) -> bool:
    try:
        return float(value).is_integer()  # False for NaN and ±inf
    except OverflowError:
        return False


def normalize_metric(m: Metric) -> Metric:
    """``m`` checked, with a float value and int timestamp and step (2.0 -> 2)."""
    validate_key(m.key, "metric")
    v, ts, step = m.value, m.timestamp, m.step
    plain = type(v) is float and type(ts) is int and type(step) is int
    if plain and INT64_MIN <= ts <= INT64_MAX and INT64_MIN <= step <= INT64_MAX:
        return m
    return Metric(
        m.key,
        metric_number(m.key, v),
        metric_integer(m.key, "timestamp", ts),
        metric_integer(m.key, "step", step),
    )


def metric_tuples(run_id: str, metrics: Sequence[Metric]) -> list[tuple]:
    """Validated rows in METRIC_COLUMNS order; NaN becomes (NULL, is_nan=True).

    Plain floats and ints in range with an already-checked key take a fast path:
    this runs for every logged point (the two range checks cost ~50 ns).
    """
    keys_ok: set[str] = set()
    out = []
    isnan = math.isnan
    lo, hi = INT64_MIN, INT64_MAX
    for m in metrics:
        v, ts, step = m.value, m.timestamp, m.step
        if (
            type(v) is float
            and type(ts) is int
            and type(step) is int
            and m.key in keys_ok
            and lo <= step <= hi
            and lo <= ts <= hi
        ):
            nan = isnan(v)
            out.append((run_id, m.key, None if nan else v, nan, ts, step))
            continue
        m = normalize_metric(m)
        keys_ok.add(m.key)
        nan = isnan(m.value)
        out.append((run_id, m.key, None if nan else m.value, nan, m.timestamp, m.step))
    return out


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(
            "An experiment name must be a non-empty string.", hint="loom exp create NAME"
        )
    if len(name) > NAME_LEN:
        raise ValidationError(
            f"The experiment name has {len(name)} characters, the limit is {NAME_LEN}.",
            limit=NAME_LEN,
        )
    _check_text("experiment name", name)
    return name


def validate_run_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ValidationError("A run name must be a non-empty string.")
    if len(name) > KEY_LEN:
        raise ValidationError(
            f"The run name has {len(name)} characters, the limit is {KEY_LEN}.", limit=KEY_LEN
        )
    _check_text("run name", name)
    return name


def validate_run_id(run_id: object) -> str:
    """Run ids are 32 lowercase hex characters; anything else can't exist."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise NotFoundError(
            f"No run with id {run_id!r} (a run id is 32 hex characters).",
            hint="loom runs list",
            run_id=run_id,
        )
    return run_id


def parse_experiment_id(experiment_id: object) -> int:
    text = str(experiment_id)
    if not (text.isascii() and text.isdigit()) or len(text) > 18:  # int("²") fails
        raise NotFoundError(
            f"No experiment with id {experiment_id!r}.",
            hint="loom exp list",
            experiment_id=experiment_id,
        )
    return int(text)


def check_hash(value: object, what: str) -> str:
    """A content hash as objects are named (lowercase hex or base32, 1-128 characters)."""
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise ValidationError(f"Invalid hash {value!r} for {what}.")
    return value


def validate_artifacts(artifacts: Sequence[Artifact]) -> None:
    for a in artifacts:
        p = paths.check_relative(a.path, "artifact path")
        if len(p) > ARTIFACT_PATH_LEN:
            raise ValidationError(
                f"Invalid artifact path {p[:40]!r}…: {len(p)} characters, "
                f"the limit is {ARTIFACT_PATH_LEN}.",
                path=p,
            )
        if not isinstance(a.hash, str) or not _HASH.fullmatch(a.hash):
            raise ValidationError(f"Invalid hash {a.hash!r} for artifact {p!r}.")
        if isinstance(a.size, bool) or not isinstance(a.size, int) or a.size < 0:
            raise ValidationError(f"Invalid size {a.size!r} for artifact {p!r}.")


def validate_inputs(inputs: Sequence[RunInput]) -> None:
    for i in inputs:
        if not isinstance(i.path, str) or not i.path or len(i.path) > 1000:
            raise ValidationError(f"Invalid input path {i.path!r}: 1 to 1000 characters.")
        _check_text("input path", i.path)
        if not isinstance(i.hash, str) or not _HASH.fullmatch(i.hash):
            raise ValidationError(f"Invalid hash {i.hash!r} for input {i.path!r}.")
        if i.kind not in ("file", "directory"):
            raise ValidationError(
                f"Invalid input kind {i.kind!r} for {i.path!r}: 'file' or 'directory'."
            )
