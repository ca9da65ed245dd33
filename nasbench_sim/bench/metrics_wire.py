"""Decoding many serialized `nasbench.ModelMetrics` messages at once, with numpy.

The official files hold one small protobuf per record, and nearly all of them
share one byte layout: the same tags at the same offsets, only the doubles and
the parameter count's varint differ. `decode_metrics` walks the wire format of
one message per distinct length (a *template*: where each tag, length and
value lies), checks every other message of that length byte for byte on the
template's structure bytes, and reads the values of all of them as numpy
columns. A message whose structure differs, or a layout the walker does not
know (unknown fields, a wrong wire type, fewer than three evaluations), is
decoded by the protobuf library instead, so the result always equals
`ModelMetrics.FromString` (the tests check both on edited messages).

Values per message: the halfway and final evaluations (`evaluation_data[1]`
and `[2]`, as the official API reads them) of the four `bench.table.METRICS`,
and `trainable_parameters`.

Example:
    >>> from nasbench_sim.bench.metrics_wire import decode_metrics
    >>> from nasbench_sim.bench.tfrecord import ModelMetrics
    >>> m = ModelMetrics(trainable_parameters=1234)
    >>> for epoch in (0.0, 54.0, 108.0):
    ...     _ = m.evaluation_data.add(current_epoch=epoch, training_time=epoch * 10, test_accuracy=0.9)
    >>> values, params, bad = decode_metrics([m.SerializeToString()] * 2)
    >>> values.shape, values[0, 1].tolist(), params.tolist(), bad.tolist()
    ((2, 2, 4), [0.0, 0.0, 0.9, 1080.0], [1234, 1234], [False, False])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from google.protobuf.message import DecodeError

from nasbench_sim.bench.table import METRICS
from nasbench_sim.bench.tfrecord import ModelMetrics

#: EvaluationData field numbers of the four metrics, in `METRICS` order.
_FIELD_NUMBERS = {"training_time": 2, "train_accuracy": 3, "validation_accuracy": 4, "test_accuracy": 5}
_METRIC_FIELDS = tuple(_FIELD_NUMBERS[metric] for metric in METRICS)
_EVALUATION_FIELDS = {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 2}  # field -> wire type (1: fixed64, 2: length-delimited)


def _varint(data: bytes, pos: int) -> tuple[int, int, list[int]]:
    """(value, next position, positions of its bytes); IndexError or ValueError past the end or > 10 bytes."""
    value = shift = 0
    where = []
    while True:
        byte = data[pos]
        where.append(pos)
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos, where
        shift += 7
        if shift >= 70:
            raise ValueError("varint too long")


class _Template:
    """Where one message's structure bytes and values lie.

    Attributes:
        structure: positions of tag and length bytes (equal in every message of the layout).
        varint: positions of the parameter count's varint bytes (their continuation bits are structure).
        doubles: (2, 4) start positions of the halfway/final metric doubles, -1 where the field is absent (0.0).
    """

    def __init__(self, data: bytes) -> None:
        self.structure: list[int] = []
        self.varint: list[int] = []
        evaluations: list[dict[int, int]] = []
        pos = 0
        while pos < len(data):
            key, pos, where = _varint(data, pos)
            self.structure += where
            field, wire = key >> 3, key & 7
            if field == 1 and wire == 2:  # evaluation_data
                length, pos, where = _varint(data, pos)
                self.structure += where
                evaluations.append(self._evaluation(data, pos, pos + length))
                pos += length
            elif field == 2 and wire == 0:  # trainable_parameters (the last occurrence wins)
                self.structure += self.varint  # an earlier occurrence: all its bytes must match
                _, pos, self.varint = _varint(data, pos)
            elif field == 3 and wire == 1:  # total_time
                pos += 8
            else:
                raise ValueError(f"field {field} with wire type {wire}")
            if pos > len(data):
                raise ValueError("truncated")
        if len(evaluations) < 3:
            raise ValueError("fewer than three evaluations")
        self.doubles = np.array([[evaluations[k].get(f, -1) for f in _METRIC_FIELDS] for k in (1, 2)])

    def _evaluation(self, data: bytes, pos: int, end: int) -> dict[int, int]:
        """Positions of an EvaluationData's doubles (the last occurrence of each field wins)."""
        found: dict[int, int] = {}
        while pos < end:
            key, pos, where = _varint(data, pos)
            self.structure += where
            field, wire = key >> 3, key & 7
            if _EVALUATION_FIELDS.get(field) != wire:
                raise ValueError(f"evaluation field {field} with wire type {wire}")
            if wire == 1:
                found[field] = pos
                pos += 8
            else:
                length, pos, where = _varint(data, pos)
                self.structure += where
                pos += length
        if pos != end:
            raise ValueError("evaluation overruns its length")
        return found


def _decode_one(data: bytes) -> tuple[np.ndarray, int] | None:
    """Values and parameter count by the protobuf library, or None when it is not a ModelMetrics
    with three evaluations."""
    try:
        message = ModelMetrics.FromString(data)
    except DecodeError:
        return None
    evaluations = message.evaluation_data
    if len(evaluations) < 3:
        return None
    values = np.array([[getattr(evaluations[k], m) for m in METRICS] for k in (1, 2)], dtype=np.float64)
    return values, int(message.trainable_parameters)


def decode_metrics(messages: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode serialized ModelMetrics messages.

    Args:
        messages: n serialized messages.

    Returns:
        (values, params, bad): values (n, 2, 4) float64 (halfway/final x `METRICS`),
        params (n,) int64 `trainable_parameters`, bad (n,) bool: the message does
        not parse or has fewer than three evaluations (its values are NaN).
    """
    n = len(messages)
    values = np.full((n, 2, len(METRICS)), np.nan)
    params = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    lengths = np.fromiter(map(len, messages), dtype=np.int64, count=n)
    for length in np.unique(lengths).tolist():
        members = np.flatnonzero(lengths == length)
        rows = np.frombuffer(b"".join([messages[i] for i in members.tolist()]), dtype=np.uint8).reshape(
            members.size, length
        )
        try:
            template = _Template(messages[members[0]])
        except (ValueError, IndexError):
            template = None
        slow = members
        if template is not None:
            same = np.all(rows[:, template.structure] == rows[0, template.structure], axis=1)
            if template.varint:
                continuation = rows[:, template.varint] & 0x80
                same &= np.all(continuation == continuation[0], axis=1)
            fast = np.flatnonzero(same)
            slow = members[~same]
            _read_values(rows[fast], template, values, params, members[fast])
        for i in slow.tolist():
            decoded = _decode_one(messages[i])
            if decoded is None:
                bad[i] = True
            else:
                values[i], params[i] = decoded
    return values, params, bad


def _read_values(rows: np.ndarray, template: _Template, values: np.ndarray, params: np.ndarray, into: np.ndarray):
    """Fill `values[into]` and `params[into]` from messages `rows` (m, L) uint8 of one template."""
    for k in range(2):
        for j, start in enumerate(template.doubles[k].tolist()):
            if start < 0:
                values[into, k, j] = 0.0
            else:
                values[into, k, j] = np.ascontiguousarray(rows[:, start : start + 8]).view("<f8").ravel()
    if template.varint:
        total = np.zeros(rows.shape[0], dtype=np.uint64)
        for shift, pos in enumerate(template.varint):
            total |= (rows[:, pos] & 0x7F).astype(np.uint64) << np.uint64(7 * shift)
        params[into] = (total & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32)  # int32 semantics
