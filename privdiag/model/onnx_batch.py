"""An ONNX model exported for a fixed batch size, rewritten to take any number of rows.

PyTorch's tracing writes its example's batch size (often 1 row) into a graph's inputs and
outputs, and onnxruntime then takes batches of exactly that many rows: a blind set of a million
rows made a million runs per scenario. :func:`free_batch` returns the model's bytes with the
first dimension of each graph input and output made a free, named one. privdiag does not depend
on the ``onnx`` package, so the protobuf is edited here, field by field, every field it does not
change copied as read (field numbers from onnx.proto). The caller uses the rewritten model only
where it scores rows as the model does (a graph that reshapes to its batch size cannot take
another).
"""

from __future__ import annotations

FREE_DIM = b"privdiag_batch"

# onnx.proto field numbers on the way from the model to a dimension
MODEL_GRAPH = 7
GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_OUTPUT, GRAPH_VALUE_INFO = 5, 11, 12, 13
TENSOR_NAME = 8
VALUE_NAME, VALUE_TYPE = 1, 2
TYPE_TENSOR, TENSOR_SHAPE, SHAPE_DIM = 1, 2, 1
DIM_VALUE, DIM_PARAM = 1, 2

# number, wire type, payload, the field as read: views of the model's bytes, not copies
Field = tuple[int, int, memoryview, memoryview]


class NotAModel(ValueError):
    """The bytes are no protobuf this module can walk."""


def _varint(data: memoryview, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise NotAModel("a number runs past the end")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def encode_varint(value: int) -> bytes:
    """A protobuf varint; a negative number as its 64-bit two's complement, as int64s are."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _fields(data: memoryview) -> list[Field]:
    """The fields of one message, in order."""
    out, at = [], 0
    while at < len(data):
        start = at
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, at = _varint(data, at)
            payload = data[at:at]
        elif wire == 2:
            size, at = _varint(data, at)
            payload, at = data[at : at + size], at + size
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
            payload = data[at:at]
        else:
            raise NotAModel(f"wire type {wire}")
        if at > len(data):
            raise NotAModel("a field runs past the end")
        out.append((number, wire, payload, data[start:at]))
    return out


def _message(number: int, payload: bytes | memoryview) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + bytes(payload)


def _first_dim_free(shape: memoryview) -> tuple[bytes, bool]:
    """The TensorShapeProto with its first dimension free, and whether it was a fixed one."""
    out: list[bytes | memoryview] = []
    changed, first = False, True
    for number, _, payload, raw in _fields(shape):
        if number == SHAPE_DIM and first:
            first = False
            if any(n == DIM_VALUE for n, *_ in _fields(payload)):
                out.append(_message(SHAPE_DIM, _message(DIM_PARAM, FREE_DIM)))
                changed = True
                continue
        out.append(raw)
    return b"".join(out), changed


def _nested(data: memoryview, path: tuple[int, ...], last: object) -> tuple[bytes, bool]:
    """Apply ``last`` to the message at ``path`` (field numbers) within ``data``."""
    if not path:
        return last(data)  # type: ignore[operator]
    out: list[bytes | memoryview] = []
    changed = False
    for number, wire, payload, raw in _fields(data):
        if number == path[0] and wire == 2:
            inner, moved = _nested(payload, path[1:], last)
            out.append(_message(number, inner) if moved else raw)
            changed |= moved
        else:
            out.append(raw)
    return b"".join(out), changed


def _name(message: memoryview, field: int) -> bytes:
    return next((bytes(p) for n, _, p, _ in _fields(message) if n == field), b"")


def _graph(graph: memoryview) -> tuple[bytes, bool]:
    fields = _fields(graph)
    # an initializer listed among the inputs (as IR < 4 wrote them) keeps its shape
    weights = {_name(t, TENSOR_NAME) for number, _, t, _ in fields if number == GRAPH_INITIALIZER}
    out: list[bytes | memoryview] = []
    changed = False
    for number, _, payload, raw in fields:
        if number == GRAPH_VALUE_INFO:
            continue  # shapes inside the graph, optional: they would hold the fixed size too
        if number in (GRAPH_INPUT, GRAPH_OUTPUT) and _name(payload, VALUE_NAME) not in weights:
            path = (VALUE_TYPE, TYPE_TENSOR, TENSOR_SHAPE)
            inner, moved = _nested(payload, path, _first_dim_free)
            out.append(_message(number, inner) if moved else raw)
            changed |= moved
        else:
            out.append(raw)
    return b"".join(out), changed


def free_batch(model: bytes) -> bytes | None:
    """Return the model with a free first dimension on every graph input and output, or None
    when none was fixed. Raises NotAModel for bytes this module cannot walk."""
    rewritten, changed = _nested(memoryview(model), (MODEL_GRAPH,), _graph)
    return rewritten if changed else None
