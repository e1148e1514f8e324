"""Signatures: what a model takes and returns, inferred from an input example.

A schema is a :class:`Tensor` (a dtype and a shape whose first, batch
dimension is free: ``-1``) or :class:`Columns` (names and dtypes, from a
DataFrame). :meth:`Signature.check` turns caller data (NumPy arrays, pandas
DataFrames, lists, dicts) into the form the model was logged with and raises
a ValidationError saying exactly what doesn't match (serving answers 400).

Allowed conversions: any lossless cast, integers to floats, a float to a
narrower float (JSON numbers and pandas default to float64; models often take
float32) and an integer to a narrower one when every value fits. Never
floats to integers, numbers to strings or back.

    >>> sig = infer(np.zeros((2, 4)))                       # doctest: +SKIP
    >>> sig.check([[1, 2, 3]])                              # doctest: +SKIP
    ValidationError: Input has 3 values per row (shape (1, 3)); the model expects 4 ...
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from loom.errors import ValidationError

_HINT = "Send input shaped like the model's input example (see its signature)."


@dataclass(frozen=True)
class Tensor:
    dtype: str  # a NumPy dtype name, or "string" / "object"
    shape: tuple[int, ...]  # -1: any size (the batch dimension)

    def __str__(self) -> str:
        return f"{self.dtype} tensor of shape {_shape(self.shape)}"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "tensor", "dtype": self.dtype, "shape": list(self.shape)}


@dataclass(frozen=True)
class Columns:
    columns: tuple[tuple[str, str], ...]  # (name, dtype) in order

    def __str__(self) -> str:
        return "columns " + ", ".join(f"{n} ({t})" for n, t in self.columns)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "columns", "columns": [{"name": n, "dtype": t} for n, t in self.columns]}


Schema = Tensor | Columns


@dataclass(frozen=True)
class Signature:
    inputs: Schema
    outputs: Schema | None = None

    def check(self, data: Any) -> Any:
        """``data`` as the model takes it (an array or a DataFrame), or a ValidationError."""
        if isinstance(self.inputs, Tensor):
            return _check_tensor(self.inputs, data)
        return _check_columns(self.inputs, data)

    def to_dict(self) -> dict[str, Any]:
        out = self.outputs.to_dict() if self.outputs is not None else None
        return {"inputs": self.inputs.to_dict(), "outputs": out}

    @classmethod
    def from_dict(cls, data: Any) -> Signature:
        """From the YAML form; ValueError saying what is wrong."""
        if not isinstance(data, dict) or "inputs" not in data:
            raise ValueError("a signature needs 'inputs'")
        outputs = data.get("outputs")
        return cls(schema_from_dict(data["inputs"]), schema_from_dict(outputs) if outputs else None)


def schema_from_dict(data: Any) -> Schema:
    if not isinstance(data, dict):
        raise ValueError(f"a schema is a mapping, not {type(data).__name__}")
    if data.get("type") == "tensor":
        shape, dtype = data.get("shape"), data.get("dtype")
        if not isinstance(dtype, str) or not isinstance(shape, list):
            raise ValueError("a tensor schema needs 'dtype' (text) and 'shape' (a list)")
        if not all(isinstance(d, int) and d >= -1 for d in shape):
            raise ValueError(f"shape {shape} holds something other than sizes or -1")
        return Tensor(dtype, tuple(shape))
    if data.get("type") == "columns":
        cols = data.get("columns")
        if not isinstance(cols, list) or not all(_is_column(c) for c in cols):
            raise ValueError("'columns' must be a list of {name, dtype}")
        return Columns(tuple((c["name"], c["dtype"]) for c in cols))
    raise ValueError(f"unknown schema type {data.get('type')!r} (tensor or columns)")


def _is_column(c: Any) -> bool:
    return isinstance(c, dict) and all(isinstance(c.get(k), str) for k in ("name", "dtype"))


# -- inference ----------------------------------------------------------------------


def infer_schema(example: Any) -> Schema:
    """The schema of an example input or output; ValidationError if it has no usable form."""
    if _is_frame(example):
        return Columns(tuple((str(c), _dtype_name(example[c])) for c in example.columns))
    if isinstance(example, dict) or (
        isinstance(example, list) and example and all(isinstance(r, dict) for r in example)
    ):
        return infer_schema(to_frame(example))
    np = _numpy()
    if _is_series(example):
        example = example.to_numpy()
    try:
        arr = np.asarray(example)
    except ValueError as exc:
        raise ValidationError(f"The input example has no regular shape: {exc}.") from None
    if arr.ndim == 0:
        raise ValidationError(
            "The input example is a single value; give a batch (a list or array of rows).",
            hint="E.g. input_example=X[:5].",
        )
    return Tensor(_dtype_name(arr), (-1, *arr.shape[1:]))


def infer(example: Any, output: Any = None) -> Signature:
    out = None
    if output is not None:
        try:
            out = infer_schema(output)
        except ValidationError:
            out = None  # an output of no tabular form (a dict of tensors …): inputs only
    return Signature(infer_schema(example), out)


# -- checks ---------------------------------------------------------------------------


def _check_tensor(spec: Tensor, data: Any) -> Any:
    np = _numpy()
    if _is_frame(data) or _is_series(data):
        data = data.to_numpy()
    try:
        arr = np.asarray(data)
    except ValueError:
        raise ValidationError(
            "Input rows have different lengths; the model expects " + str(spec) + ".",
            hint=_HINT,
        ) from None
    if arr.ndim != len(spec.shape):
        raise ValidationError(
            f"Input has {arr.ndim} dimension(s) (shape {tuple(arr.shape)}); the model expects "
            f"{len(spec.shape)}: {_shape(spec.shape)}.",
            hint="Send a batch: a list of rows, e.g. [[...], [...]]."
            if arr.ndim + 1 == len(spec.shape)
            else _HINT,
        )
    for i, (got, want) in enumerate(zip(arr.shape, spec.shape, strict=True)):
        if want != -1 and got != want:
            what = "values per row" if i == 1 and arr.ndim == 2 else f"entries along dimension {i}"
            raise ValidationError(
                f"Input has {got} {what} (shape {tuple(arr.shape)}); the model expects {want} "
                f"(shape {_shape(spec.shape)}).",
                hint=_HINT,
            )
    return _convert(arr, spec.dtype, "Input")


def _check_columns(spec: Columns, data: Any) -> Any:
    want = [n for n, _ in spec.columns]
    frame = _as_frame(data, want)
    have = {str(c): c for c in frame.columns}
    missing = [f"{n} ({t})" for n, t in spec.columns if n not in have]
    extra = [n for n in have if n not in dict(spec.columns)]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lacks column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"has column(s) the model doesn't take: {', '.join(extra)}")
        raise ValidationError(
            f"Input {' and '.join(parts)}. The model expects {', '.join(want)}.",
            hint=_HINT,
            missing=missing,
            unexpected=extra,
        )
    pd = _pandas()
    out = {}
    for name, dtype in spec.columns:
        values = frame[have[name]].to_numpy()
        out[have[name]] = _convert(values, dtype, f"Column {name!r}")
    return pd.DataFrame(out, columns=[have[n] for n in want], index=frame.index)


def _as_frame(data: Any, names: list[str]) -> Any:
    if _is_frame(data):
        return data
    if isinstance(data, dict) or (
        isinstance(data, list) and data and all(isinstance(r, dict) for r in data)
    ):
        return to_frame(data)
    np = _numpy()
    try:
        arr = np.asarray(data, dtype=object)
    except ValueError:
        arr = None
    if arr is None or arr.ndim != 2:
        raise ValidationError(
            f"Input is not a table; the model expects {len(names)} columns: {', '.join(names)}.",
            hint=f"Send a DataFrame, records ({{column: value}}) or rows of {len(names)} values.",
        )
    if arr.shape[1] != len(names):
        raise ValidationError(
            f"Input has {arr.shape[1]} values per row; the model expects {len(names)} "
            f"columns: {', '.join(names)}.",
            hint=_HINT,
        )
    pd = _pandas()
    return pd.DataFrame({n: list(arr[:, i]) for i, n in enumerate(names)})


def _convert(values: Any, dtype: str, what: str) -> Any:
    """``values`` (an array) cast to ``dtype`` when that loses nothing (module docstring)."""
    np = _numpy()
    if values.dtype == object and dtype not in ("object", "string"):
        values = _numeric(values, what, dtype)
    got = _dtype_name(values)
    if dtype == "object" or got == dtype:
        return values
    if dtype == "string":
        if got == "string" or (values.dtype == object and all(isinstance(v, str) for v in values)):
            return values
        raise _dtype_error(what, got, dtype)
    try:
        want = np.dtype(dtype)
    except TypeError:
        return values  # a pandas-only dtype (Int64, category …): the column's presence is checked
    kind, want_kind = values.dtype.kind, want.kind
    if np.can_cast(values.dtype, want, "safe"):
        return values.astype(want)
    if want_kind == "f" and kind in "biuf":
        return values.astype(want)
    if want_kind in "iu" and kind in "biu":
        cast = values.astype(want)
        if np.array_equal(cast, values):
            return cast
        raise ValidationError(
            f"{what} holds values that don't fit in {dtype}.", hint=_HINT, expected=dtype
        )
    raise _dtype_error(what, got, dtype)


def _numeric(values: Any, what: str, dtype: str) -> Any:
    np = _numpy()
    try:
        return np.asarray(values.tolist())
    except (ValueError, TypeError):
        raise ValidationError(
            f"{what} holds values of mixed types; the model expects {dtype}.", hint=_HINT
        ) from None


def _dtype_error(what: str, got: str, want: str) -> ValidationError:
    np = _numpy()
    try:
        lossy = np.dtype(got).kind == "f" and np.dtype(want).kind in "iu"
    except TypeError:
        lossy = False
    why = " (floats can't become integers without losing their fractions)" if lossy else ""
    return ValidationError(
        f"{what} has dtype {got}; the model expects {want}{why}.",
        hint=_HINT,
        got=got,
        expected=want,
    )


# -- helpers ----------------------------------------------------------------------------


def _dtype_name(values: Any) -> str:
    dtype = values.dtype
    kind = getattr(dtype, "kind", "O")
    if kind in "US" or str(dtype) in ("string", "str"):
        return "string"
    if kind == "O":
        seen = values.tolist() if hasattr(values, "tolist") else list(values)
        return "string" if seen and all(isinstance(v, str) for v in seen) else "object"
    return str(dtype)


def _shape(shape: tuple[int, ...]) -> str:
    dims = ", ".join("any" if d == -1 else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def _is_frame(x: Any) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(x, pd.DataFrame)


def _is_series(x: Any) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(x, pd.Series)


def to_frame(data: Any) -> Any:
    """A DataFrame from a dict of columns or a list of records."""
    pd = _pandas()
    try:
        return pd.DataFrame(data) if isinstance(data, list) else pd.DataFrame(dict(data))
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"Input is not a table: {exc}.", hint=_HINT) from None


def _numpy() -> Any:
    from loom.registry.flavors import require

    return require("numpy", "signature", None, "numpy")


def _pandas() -> Any:
    from loom.registry.flavors import require

    return require("pandas", "signature", None, "pandas")
