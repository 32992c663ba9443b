"""The protobuf walk that frees an ONNX model's batch dimension (privdiag.model.onnx_batch)."""

from __future__ import annotations

import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx_proto import FLOAT, _bytes, _int, float_tensor, node
from onnx_proto import model as onnx_model

from privdiag.model.onnx_batch import NotAModel, _fields, free_batch


def _input(name: str, dims: list[int]) -> bytes:
    shape = b"".join(_bytes(1, _int(1, d)) for d in dims)
    return _bytes(1, name) + _bytes(2, _bytes(1, _int(1, FLOAT) + _bytes(2, shape)))


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_bytes_are_walked_whole_or_refused_as_no_model(data):
    try:
        fields = _fields(memoryview(data))
    except NotAModel:
        return
    assert b"".join(bytes(raw) for *_, raw in fields) == data


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_free_batch_of_any_bytes_gives_bytes_none_or_no_model(data):
    try:
        out = free_batch(data)
    except NotAModel:
        return
    assert out is None or isinstance(out, bytes)


@given(rows=st.integers(1, 64), width=st.integers(1, 8))
@settings(max_examples=25, deadline=None)
def test_a_fixed_first_dimension_is_freed_and_the_rest_kept(rows, width):
    """y = x * 2 over x [rows, width]: freed, onnxruntime reads a named first dimension
    and the width as written; a weight listed among the inputs keeps its shape."""
    two = float_tensor("two", [2.0], [1])
    model = onnx_model(
        [node("Mul", ["x", "two"], ["y"])],
        [_input("x", [rows, width]), _input("two", [1])],
        [_input("y", [rows, width])],
        [two],
    )
    freed = free_batch(model)
    assert freed is not None
    options = ort.SessionOptions()
    options.log_severity_level = 3  # its warning on the weight among the inputs
    session = ort.InferenceSession(freed, options, providers=["CPUExecutionProvider"])
    assert [(i.name, i.shape) for i in session.get_inputs()] == [("x", ["privdiag_batch", width])]
    assert [i.shape for i in session.get_overridable_initializers()] == [[1]]
    assert session.get_outputs()[0].shape == ["privdiag_batch", width]


def test_a_model_of_free_batches_is_left_as_it_is():
    model = onnx_model([node("Neg", ["x"], ["y"])], [_input("x", [])], [_input("y", [])])
    assert free_batch(model) is None


def test_bytes_cut_short_are_no_model():
    model = onnx_model([node("Neg", ["x"], ["y"])], [_input("x", [1, 2])], [_input("y", [1, 2])])
    with pytest.raises(NotAModel):
        free_batch(model[:-3])
