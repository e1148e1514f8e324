"""Signatures: inferred from examples, and checks that say exactly what doesn't match."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loom.errors import ValidationError
from loom.registry.signature import Columns, Signature, Tensor, infer, infer_schema


def test_an_array_gives_its_dtype_and_shape_with_a_free_batch_dimension() -> None:
    assert infer_schema(np.zeros((5, 4), dtype="float32")) == Tensor("float32", (-1, 4))
    assert infer_schema(np.zeros((2, 3, 8), dtype="int64")) == Tensor("int64", (-1, 3, 8))
    assert infer_schema([[1.0, 2.0], [3.0, 4.0]]) == Tensor("float64", (-1, 2))
    assert infer_schema(["a", "bb"]) == Tensor("string", (-1,))


def test_a_frame_gives_its_columns_and_dtypes_records_and_dicts_too() -> None:
    frame = pd.DataFrame({"age": [30, 40], "income": [1.5, 2.5], "city": ["a", "b"]})
    want = Columns((("age", "int64"), ("income", "float64"), ("city", "string")))
    assert infer_schema(frame) == want
    assert infer_schema(frame.to_dict(orient="records")) == want
    assert infer_schema(frame.to_dict(orient="list")) == want


def test_a_single_value_is_no_batch() -> None:
    with pytest.raises(ValidationError, match="single value"):
        infer_schema(3.0)


def test_the_yaml_form_round_trips() -> None:
    sig = infer(pd.DataFrame({"a": [1.0]}), np.array([1, 0]))
    assert Signature.from_dict(sig.to_dict()) == sig
    assert sig.outputs == Tensor("int64", (-1,))


TENSOR = Signature(Tensor("float64", (-1, 4)))


def _error(sig: Signature, data: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        sig.check(data)
    return info.value


def test_wrong_width_names_both_widths() -> None:
    err = _error(TENSOR, [[1, 2, 3]])
    assert err.message == (
        "Input has 3 values per row (shape (1, 3)); the model expects 4 (shape (any, 4))."
    )


def test_one_row_without_a_batch_gets_a_hint_to_send_a_batch() -> None:
    err = _error(TENSOR, [1.0, 2.0, 3.0, 4.0])
    assert "1 dimension(s)" in err.message and "expects 2" in err.message
    assert "list of rows" in (err.hint or "")


def test_ragged_rows_are_refused() -> None:
    assert "different lengths" in _error(TENSOR, [[1, 2, 3, 4], [1, 2]]).message


def test_floats_never_become_integers() -> None:
    sig = Signature(Tensor("int64", (-1, 2)))
    err = _error(sig, np.array([[1.5, 2.0]]))
    assert err.message == (
        "Input has dtype float64; the model expects int64 "
        "(floats can't become integers without losing their fractions)."
    )
    assert _error(sig, [["a", "b"]]).message.startswith("Input has dtype string")


def test_lossless_and_json_conversions_are_made() -> None:
    out = TENSOR.check([[1, 2, 3, 4]])  # JSON integers for a float model
    assert out.dtype == np.float64 and out.tolist() == [[1.0, 2.0, 3.0, 4.0]]
    f32 = Signature(Tensor("float32", (-1, 2))).check([[0.5, 1.5]])  # JSON floats are float64
    assert f32.dtype == np.float32
    small = Signature(Tensor("int8", (-1,)))
    assert small.check([1, 2]).dtype == np.int8
    assert "don't fit in int8" in _error(small, [1, 300]).message


COLUMNS = Signature(Columns((("age", "int64"), ("income", "float64"), ("city", "string"))))


def test_a_missing_or_misspelt_column_is_named() -> None:
    frame = pd.DataFrame({"age": [1], "incme": [2.0], "city": ["x"]})
    err = _error(COLUMNS, frame)
    assert err.message == (
        "Input lacks column(s) income (float64) and has column(s) the model doesn't take: "
        "incme. The model expects age, income, city."
    )
    err = _error(COLUMNS, [{"age": 1, "city": "x"}])
    assert err.message.startswith("Input lacks column(s) income (float64).")


def test_a_column_of_the_wrong_dtype_is_named() -> None:
    err = _error(COLUMNS, {"age": [1.5], "income": [2.0], "city": ["x"]})
    assert err.message.startswith("Column 'age' has dtype float64; the model expects int64")
    err = _error(COLUMNS, {"age": [1], "income": ["rich"], "city": ["x"]})
    assert err.message.startswith("Column 'income' has dtype string; the model expects float64")
    err = _error(COLUMNS, {"age": [1], "income": [2.0], "city": [3]})
    assert err.message.startswith("Column 'city' has dtype int64; the model expects string")


def test_columns_are_put_in_the_model_order_and_converted() -> None:
    out = COLUMNS.check([{"city": "x", "income": 2, "age": 1}])
    assert list(out.columns) == ["age", "income", "city"]
    assert str(out["income"].dtype) == "float64" and out["income"][0] == 2.0


def test_rows_without_names_fit_by_position_or_say_the_width() -> None:
    out = COLUMNS.check([[1, 2.0, "x"]])
    assert out.to_dict(orient="records") == [{"age": 1, "income": 2.0, "city": "x"}]
    err = _error(COLUMNS, [[1, 2.0]])
    assert err.message == (
        "Input has 2 values per row; the model expects 3 columns: age, income, city."
    )
