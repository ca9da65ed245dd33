"""The `ModelMetrics` protobuf of an official NB101 record, encoded by hand: one record or many at once.

`model_metrics_bytes` builds one record's serialized `ModelMetrics` (what
`ModelMetrics.SerializeToString()` gives); `metrics_texts` builds the base64
text of many at once from arrays, as `export.export_tfrecord` writes them. What
the tables do not hold is written as placeholders the official API never
returns: the start-of-training evaluation (`START_PLACEHOLDER`) and
`total_time` (`TOTAL_TIME_FACTOR` times the final training time).

Example:
    >>> from nasbench_sim.bench.metrics_encoder import model_metrics_bytes
    >>> from nasbench_sim.bench.tfrecord import ModelMetrics
    >>> raw = model_metrics_bytes((50.0, 0.9, 0.8, 0.8), (100.0, 1.0, 0.9, 0.9), 108, 1234)
    >>> ModelMetrics.FromString(raw).trainable_parameters
    1234
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Sequence

import numpy as np

from nasbench_sim.bench.table import METRICS

#: Start-of-training evaluation written to every record: (epoch, training time s, train, validation, test accuracy).
START_PLACEHOLDER = (0.0, 0.0, 0.1, 0.1, 0.1)
#: `total_time` written = this factor x the record's final training time (seconds).
TOTAL_TIME_FACTOR = 1.1

# Protobuf tags: evaluation_data (field 1, length-delimited), its doubles (fields 1-5, wire type 1),
# trainable_parameters (field 2, varint), total_time (field 3, double).
_EVAL_TAGS = (0x09, 0x11, 0x19, 0x21, 0x29)
_EVAL_BYTES = len(_EVAL_TAGS) * 9
_EVAL_HEAD = bytes((0x0A, _EVAL_BYTES))
_PARAMS_TAG = b"\x10"
_TOTAL_TIME_TAG = b"\x19"
_TABLE_ORDER = [METRICS.index(m) for m in ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")]


def _evaluation(values: Sequence[float]) -> bytes:
    """One `EvaluationData` as a length-delimited field 1, every double present."""
    return _EVAL_HEAD + b"".join(
        bytes((tag,)) + struct.pack("<d", v) for tag, v in zip(_EVAL_TAGS, values, strict=True)
    )


_START = _evaluation(START_PLACEHOLDER)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | 0x80 if value else low)
        if not value:
            return bytes(out)


def model_metrics_bytes(
    halfway: Sequence[float], final: Sequence[float], epochs: int, trainable_parameters: int
) -> bytes:
    """A record's serialized `ModelMetrics`, built by hand (what `export_tfrecord` writes, one at a time).

    Args:
        halfway: (training time s, train, validation, test accuracy) halfway through training.
        final: the same at the end of training.
        epochs: the budget.
        trainable_parameters: parameter count (0 <= n < 2**31, a protobuf int32).

    Returns:
        The bytes `ModelMetrics.SerializeToString()` gives for the start placeholder, these two
        evaluations, the parameter count and the `total_time` placeholder.
    """
    return (
        _START
        + _evaluation((epochs / 2, *halfway))
        + _evaluation((float(epochs), *final))
        + _PARAMS_TAG
        + _varint(int(trainable_parameters))
        + _TOTAL_TIME_TAG
        + struct.pack("<d", float(final[0]) * TOTAL_TIME_FACTOR)
    )


def metrics_texts(values: np.ndarray, epochs: np.ndarray, params: np.ndarray) -> tuple[list[bytes], np.ndarray]:
    """The end of each record's payload: base64 of its `ModelMetrics` (as `model_metrics_bytes`) and `"]`.

    Args:
        values: (n, point, metric) float64 of the records.
        epochs: (n,) budget of each record.
        params: (n,) trainable parameters of each record's cell.

    Returns:
        The n texts, and their (n,) int64 lengths.
    """
    n = values.shape[0]
    doubles = np.empty((n, 2, 5), dtype="<f8")
    doubles[:, 0, 0] = epochs / 2
    doubles[:, 1, 0] = epochs
    doubles[:, :, 1:] = values[:, :, _TABLE_ORDER]
    evaluations = np.empty((n, 2, 2 + _EVAL_BYTES), dtype=np.uint8)
    evaluations[..., :2] = np.frombuffer(_EVAL_HEAD, dtype=np.uint8)
    fields = evaluations[..., 2:].reshape(n, 2, 5, 9)
    fields[..., 0] = _EVAL_TAGS
    fields[..., 1:] = doubles.view(np.uint8).reshape(n, 2, 5, 8)
    head = np.empty((n, len(_START) + evaluations[0].size), dtype=np.uint8)
    head[:, : len(_START)] = np.frombuffer(_START, dtype=np.uint8)
    head[:, len(_START) :] = evaluations.reshape(n, -1)
    # 141 = 47 x 3 bytes: the base64 of the heads one after another is theirs one after another.
    head_text = np.frombuffer(binascii.b2a_base64(head.tobytes(), newline=False), dtype=np.uint8).reshape(n, -1)
    total_time = (values[:, 1, METRICS.index("training_time")] * TOTAL_TIME_FACTOR).astype("<f8")
    size = 1 + sum((params >= 1 << (7 * k)).astype(np.int64) for k in range(1, 5))  # varint bytes
    varint = np.stack(
        [((params >> (7 * k)) & 0x7F) | np.where(k < size - 1, 0x80, 0) for k in range(5)], axis=1
    ).astype(np.uint8)
    texts: list[bytes] = [b""] * n
    lengths = np.empty(n, dtype=np.int64)
    for width in np.unique(size).tolist():
        chosen = np.flatnonzero(size == width)
        tail = np.empty((chosen.size, width + 10), dtype=np.uint8)  # parameter count, total_time
        tail[:, 0] = _PARAMS_TAG[0]
        tail[:, 1 : 1 + width] = varint[chosen, :width]
        tail[:, 1 + width] = _TOTAL_TIME_TAG[0]
        tail[:, 2 + width :] = total_time[chosen].view(np.uint8).reshape(-1, 8)
        tail_text = _base64_rows(tail)
        text = np.empty((chosen.size, head_text.shape[1] + tail_text.shape[1] + 2), dtype=np.uint8)
        text[:, : head_text.shape[1]] = head_text[chosen]
        text[:, head_text.shape[1] : -2] = tail_text
        text[:, -2:] = np.frombuffer(b'"]', dtype=np.uint8)
        blob, step = text.tobytes(), text.shape[1]
        pieces = [blob[at : at + step] for at in range(0, len(blob), step)]
        if chosen.size == n:  # one group (the usual case): already in record order
            texts = pieces
        else:
            for i, piece in zip(chosen.tolist(), pieces, strict=True):
                texts[i] = piece
        lengths[chosen] = step
    return texts, lengths


_BASE64 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", dtype=np.uint8)


def _base64_rows(rows: np.ndarray) -> np.ndarray:
    """(n, 4 * ceil(L / 3)) uint8: the standard base64 (with '=' padding) of each row of an (n, L) uint8 array."""
    n, width = rows.shape
    pad = -width % 3
    padded = np.zeros((n, width + pad), dtype=np.uint32)
    padded[:, :width] = rows
    triples = padded.reshape(n, -1, 3)
    word = (triples[..., 0] << 16) | (triples[..., 1] << 8) | triples[..., 2]
    text = _BASE64[np.stack([word >> 18, (word >> 12) & 63, (word >> 6) & 63, word & 63], axis=-1).reshape(n, -1)]
    if pad:
        text[:, -pad:] = ord("=")
    return text
