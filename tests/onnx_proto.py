"""Write small ONNX models by hand, for tests, without the ``onnx`` package.

The ``onnx`` package (and skl2onnx) is a dev extra, not installed where the tests run; an ONNX
file is a protobuf ``ModelProto``, and the few messages a test model needs are encoded here
with their field numbers from onnx.proto (wire types: 0 varint, 2 length-delimited, 5 32-bit).
"""

from __future__ import annotations

import struct

from privdiag.model.onnx_batch import encode_varint as _varint

FLOAT, INT64, STRING = 1, 7, 8  # TensorProto.DataType
_ATTR_FLOAT, _ATTR_INT, _ATTR_FLOATS, _ATTR_STRINGS = 1, 2, 6, 8  # AttributeProto.AttributeType


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(value)


def _bytes(field: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return _key(field, 2) + _varint(len(data)) + data


def _float(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", value)


def attribute(name: str, value: float | int | list[float] | list[str]) -> bytes:
    """An AttributeProto: a float, an int, a list of floats or a list of strings."""
    out = _bytes(1, name)
    if isinstance(value, float):
        return out + _float(2, value) + _int(20, _ATTR_FLOAT)
    if isinstance(value, int):
        return out + _int(3, value) + _int(20, _ATTR_INT)
    if value and isinstance(value[0], str):
        return out + b"".join(_bytes(9, v) for v in value) + _int(20, _ATTR_STRINGS)
    return out + b"".join(_float(7, float(v)) for v in value) + _int(20, _ATTR_FLOATS)


def node(op: str, inputs: list[str], outputs: list[str], domain: str = "", **attrs) -> bytes:
    """A NodeProto of operator ``op`` (``domain`` "ai.onnx.ml" for the ML operators)."""
    out = b"".join(_bytes(1, i) for i in inputs) + b"".join(_bytes(2, o) for o in outputs)
    out += _bytes(3, f"{op}_{outputs[0]}") + _bytes(4, op)
    out += b"".join(_bytes(5, attribute(k, v)) for k, v in attrs.items())
    return out + (_bytes(7, domain) if domain else b"")


def value_info(name: str, elem_type: int, width: int | None = 1) -> bytes:
    """A ValueInfoProto of a tensor [N, width] (rows unnamed: any count)."""
    dims = _bytes(1, _bytes(2, "N"))
    if width is not None:
        dims += _bytes(1, _int(1, width))
    tensor = _int(1, elem_type) + _bytes(2, dims)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor))


def float_tensor(name: str, values: list[float], dims: list[int]) -> bytes:
    """A TensorProto of floats (an initializer)."""
    data = b"".join(_int(1, d) for d in dims) + _int(2, FLOAT)
    data += _bytes(4, b"".join(struct.pack("<f", v) for v in values))  # packed float_data
    return data + _bytes(8, name)


def model(
    nodes: list[bytes],
    inputs: list[bytes],
    outputs: list[bytes],
    initializers: list[bytes] = (),
    metadata: dict[str, str] | None = None,
) -> bytes:
    """A ModelProto (IR 8, opset 17 and ai.onnx.ml 3) of one graph, as file bytes."""
    graph = b"".join(_bytes(1, n) for n in nodes) + _bytes(2, "test")
    graph += b"".join(_bytes(5, t) for t in initializers)
    graph += b"".join(_bytes(11, i) for i in inputs) + b"".join(_bytes(12, o) for o in outputs)
    out = _int(1, 8) + _bytes(2, "privdiag-tests") + _bytes(7, graph)
    out += _bytes(8, _bytes(1, "") + _int(2, 17)) + _bytes(8, _bytes(1, "ai.onnx.ml") + _int(2, 3))
    for key, value in (metadata or {}).items():
        out += _bytes(14, _bytes(1, key) + _bytes(2, value))
    return out
