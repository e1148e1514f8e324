"""Metrics files (JSON or YAML) as flat ``{dotted.key: number}``, what a stage's run logs.

>>> flatten_numbers({"eval": {"acc": 0.9, "n": 10}, "name": "x", "ok": True})
{'eval.acc': 0.9, 'eval.n': 10}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loom.pipelines.errors import PipelineError, Where


def read(path: Path, shown: str) -> dict[str, float]:
    """The numbers in the metrics file ``path`` (``shown`` in errors); {} when it is empty."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(data or b"{}")
        except ValueError as exc:
            line = getattr(exc, "lineno", 0)
            raise PipelineError(Where(shown, line), f"not valid JSON: {exc}.") from None
    else:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            doc = yaml.load(data, Loader=loader)
        except yaml.YAMLError as exc:
            raise PipelineError(Where(shown, 0), f"not valid YAML: {exc}.") from None
    return flatten_numbers(doc) if isinstance(doc, Mapping) else {}


def flatten_numbers(doc: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Nested mappings flattened with dots; only numbers are kept (booleans are not)."""
    out: dict[str, float] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_numbers(value, name + "."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = value  # NaN and infinities too: the store keeps them
    return out
