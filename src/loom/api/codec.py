"""Entities to JSON and back, the same way on both ends of ``/api/v1``.

Requests are encoded with :func:`encode` (dataclasses to objects, enums to their
values, exact integers from any number type) and answers decoded with
:func:`decode`, pydantic validating JSON into the plain entities of
:mod:`loom.entities`. Non-finite floats travel as ``"NaN"`` / ``"Infinity"``
strings in answers (proto3's mapping, as the MLflow routes do); decode reads both.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import numbers
from typing import Any

from pydantic import TypeAdapter


def encode(value: Any) -> Any:
    """A JSON-able copy of ``value``: entities, lists, dicts, sets, enums, numbers."""
    if value is None or isinstance(value, str | bool):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, int | float):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(encode(v) for v in value)
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return _number(value)


def _number(value: Any) -> Any:
    """An int for any integral number (the store keeps steps exactly), else a float."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Rational) and value.denominator == 1:
        return int(value.numerator)
    if isinstance(value, numbers.Real):
        return float(value)
    return value  # the receiver refuses it with its own message


def dumps(value: Any) -> bytes:
    """A request body: NaN and infinities as JSON's common literals (Python reads them)."""
    return json.dumps(encode(value), separators=(",", ":")).encode()


@functools.cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def decode(tp: Any, data: Any) -> Any:
    """``data`` (parsed JSON) as an instance of the type ``tp`` (entities rebuilt)."""
    if tp is None or tp is type(None):
        return None
    return _adapter(tp).validate_python(data)
