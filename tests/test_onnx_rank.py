"""ONNX models whose input is a tensor of rank 3 (rows x 1 x features, as a model exported
from a sequence layer may take): fed rows of that shape, or refused by name.

The model is p = sigmoid(0.5 a + 0.3 b - 1) on the blind set of ``tests/test_hostile22.py``,
its input x flattened to [rows, 2] before the weights; the same model of a rank-2 input
scores the same rows alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from onnx_proto import FLOAT, _bytes, _int, float_tensor, node

from tests.test_hostile22 import _blind_set, _classifier, _model_check, _one_tensor_model


def _tensor(name: str, dims: list[int | str]) -> bytes:
    """A float ValueInfoProto of the given dims: a number fixed, a text named (free)."""
    shape = b"".join(_bytes(1, _bytes(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    return _bytes(1, name) + _bytes(2, _bytes(1, _int(1, FLOAT) + _bytes(2, shape)))


def _rank3_model(path: Path, dims: list[int | str]) -> Path:
    nodes = [node("Flatten", ["x"], ["flat"], axis=1), node("MatMul", ["flat", "w"], ["z0"])]
    width = 4 if dims == [2, 2] else 2
    constants = [float_tensor("w", [0.5, 0.3, 0.0, 0.0][:width], [width, 1])]
    meta = {"feature_names": "a, b"}
    return _classifier(path, nodes, [_tensor("x", ["N", *dims])], constants, meta)


def _metrics(out: Path) -> dict:
    """Each scenario's measures, unmasked and masked, of a model-check's JSON."""
    found = json.loads(out.read_text("utf-8"))["evidence"]["scenario_metrics"]
    return {name: table["rows"] for name, table in found.items()}


@pytest.mark.parametrize("dims", [[1, 2], [2, 1]])
def test_a_rank_3_input_of_one_row_a_row_is_fed_as_its_shape(tmp_path, dims):
    flat = _one_tensor_model(tmp_path / "flat.onnx", "a, b")
    result, out = _model_check(tmp_path, flat, _blind_set())
    assert result.exit_code in (0, 1), result.output
    expected = _metrics(out)
    model = _rank3_model(tmp_path / "rank3.onnx", dims)
    result, out = _model_check(tmp_path, model, _blind_set())
    assert result.exit_code in (0, 1), result.output
    assert "Invalid rank" not in result.output
    assert _metrics(out) == expected
    assert expected["deny_ads"][0][:3] == ["roc_auc", 0.601162, 0.532051]


@pytest.mark.parametrize(("dims", "shape"), [(["T", 2], "[N, T, 2]"), ([2, 2], "[N, 2, 2]")])
def test_a_rank_3_input_of_several_vectors_a_row_is_refused_by_name(tmp_path, dims, shape):
    model = _rank3_model(tmp_path / "rank3.onnx", dims)
    result, out = _model_check(tmp_path, model, _blind_set())
    assert result.exit_code == 3, result.output
    assert f"rank3.onnx: its input x is a tensor of shape {shape}" in result.output
    assert "Invalid rank" not in result.output and not out.exists()
