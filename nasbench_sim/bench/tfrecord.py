"""The record codec of the official NB101 `.tfrecord` files, without TensorFlow: read (and, for tests and tools, write).

File layout (TFRecord framing): per record a little-endian uint64 length, its
masked CRC-32C, the payload, and the payload's masked CRC-32C. Each NB101
payload is a JSON list `[module_hash, epochs, adjacency, operations, metrics]`:
`adjacency` a string of V*V '0'/'1' characters (row-major), `operations`
comma-separated op names, `metrics` a base64 `nasbench.ModelMetrics` protobuf
whose `evaluation_data` holds the evaluations at the start, halfway point and
end of training. One record per (cell, budget, repeat), repeats in file order.

`iter_record_blocks` reads the file in blocks of whole records (`iter_tfrecord`
one record at a time), checking both CRCs and that a record's length fits in
the rest of the file; `split_row` and `decode_row` check a payload's field
types. Bad input raises `DataFormatError` (framing, naming the byte offset) or
`ValueError` (a row). `bench.conversion.convert_tfrecord` turns a whole file
into a table.

Example:
    >>> import tempfile, os
    >>> from nasbench_sim.bench.tfrecord import write_tfrecord, iter_tfrecord
    >>> path = os.path.join(tempfile.mkdtemp(), "x.tfrecord")
    >>> write_tfrecord(path, [b"hello", b"world"])
    >>> [payload for _, payload in iter_tfrecord(path)]
    [b'hello', b'world']
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import google_crc32c
import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from nasbench_sim.bench.table import METRICS
from nasbench_sim.errors import DataFormatError

_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of `data`."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


class RecordBlock(NamedTuple):
    """Whole records read from one stretch of a file.

    Attributes:
        offsets: byte offset of each record.
        payloads: each record's payload, CRC-checked.
        end: byte offset just after the last record.
        error: the framing error found right after them, if any (the file is unusable from there on).
    """

    offsets: list[int]
    payloads: list[bytes]
    end: int
    error: DataFormatError | None


def iter_record_blocks(
    path: str | os.PathLike, digest: Any = None, block_bytes: int = 1 << 24
) -> Iterator[RecordBlock]:
    """Yield the file's records in blocks of about `block_bytes`, checking both CRCs.

    A record's claimed length is checked against what is left of the file
    before anything is read, so a corrupt length never allocates memory. The
    first framing error ends the iteration: its block carries it, after the
    intact records before it.

    Args:
        path: the file.
        digest: optional `hashlib` object updated with every byte of the file, in order.
        block_bytes: bytes read at a time.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        buffer = b""
        base = 0  # file offset of buffer[0]
        at_end = False
        while True:
            chunk = handle.read(block_bytes)
            if digest is not None:
                digest.update(chunk)
            at_end = not chunk
            buffer += chunk
            offsets: list[int] = []
            payloads: list[bytes] = []
            error = None
            pos, filled = 0, len(buffer)
            while pos + _HEADER.size <= filled:
                length, length_crc = _HEADER.unpack_from(buffer, pos)
                if masked_crc32c(buffer[pos : pos + 8]) != length_crc:
                    error = f"corrupt record length (CRC mismatch) at byte offset {base + pos}"
                    break
                left = size - base - pos - _HEADER.size
                if length + _CRC.size > left:
                    error = (
                        f"truncated record at byte offset {base + pos}: needs {length} payload bytes, "
                        f"the file has {max(left - _CRC.size, 0)} left"
                    )
                    break
                end = pos + _HEADER.size + length + _CRC.size
                if end > filled:
                    break
                payload = buffer[pos + _HEADER.size : end - _CRC.size]
                if masked_crc32c(payload) != _CRC.unpack_from(buffer, end - _CRC.size)[0]:
                    error = f"corrupt record data (CRC mismatch) at byte offset {base + pos}"
                    break
                offsets.append(base + pos)
                payloads.append(payload)
                pos = end
            if error is None and at_end and pos < filled:
                error = (
                    f"truncated record header at byte offset {base + pos}"
                    if filled - pos < _HEADER.size
                    else f"truncated record at byte offset {base + pos}: the file ended while reading"
                )
            failed = DataFormatError(f"{path}: {error}") if error is not None else None
            if offsets or failed is not None or at_end:
                yield RecordBlock(offsets, payloads, base + pos, failed)
            if failed is not None or at_end:
                return
            buffer = buffer[pos:]
            base += pos


def iter_tfrecord(path: str | os.PathLike, digest: Any = None) -> Iterator[tuple[int, bytes]]:
    """Yield (byte offset, payload) of every record, checking both CRCs (see `iter_record_blocks`).

    Raises:
        DataFormatError: truncated or corrupt record; the message gives the byte offset.
    """
    for block in iter_record_blocks(path, digest):
        yield from zip(block.offsets, block.payloads, strict=True)
        if block.error is not None:
            raise block.error


def is_tfrecord(path: str | os.PathLike) -> bool:
    """Whether a file starts with a TFRecord header (a length whose masked CRC-32C matches).

    TFRecord files have no magic number; a valid first header is the check
    (a random 12-byte prefix passes with probability 2**-32).
    """
    with open(path, "rb") as handle:
        header = handle.read(_HEADER.size)
    return len(header) == _HEADER.size and masked_crc32c(header[:8]) == _HEADER.unpack(header)[1]


def write_tfrecord(path: str | os.PathLike, payloads: Iterable[bytes]) -> None:
    """Write payloads with TFRecord framing."""
    with open(path, "wb") as handle:
        for payload in payloads:
            length = struct.pack("<Q", len(payload))
            handle.write(length + _CRC.pack(masked_crc32c(length)) + payload + _CRC.pack(masked_crc32c(payload)))


def _model_metrics_class() -> type:
    """`nasbench.ModelMetrics` built from its descriptor (no protoc, private pool)."""
    fdp = descriptor_pb2.FileDescriptorProto(
        name="nasbench_sim/model_metrics.proto", package="nasbench", syntax="proto2"
    )
    f = descriptor_pb2.FieldDescriptorProto
    evaluation = fdp.message_type.add(name="EvaluationData")
    for number, name in enumerate(
        ("current_epoch", "training_time", "train_accuracy", "validation_accuracy", "test_accuracy"), start=1
    ):
        evaluation.field.add(name=name, number=number, type=f.TYPE_DOUBLE, label=f.LABEL_OPTIONAL)
    evaluation.field.add(name="checkpoint_path", number=6, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    metrics = fdp.message_type.add(name="ModelMetrics")
    metrics.field.add(
        name="evaluation_data",
        number=1,
        type=f.TYPE_MESSAGE,
        type_name=".nasbench.EvaluationData",
        label=f.LABEL_REPEATED,
    )
    metrics.field.add(name="trainable_parameters", number=2, type=f.TYPE_INT32, label=f.LABEL_OPTIONAL)
    metrics.field.add(name="total_time", number=3, type=f.TYPE_DOUBLE, label=f.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("nasbench.ModelMetrics"))


ModelMetrics = _model_metrics_class()


def encode_row(
    module_hash: str,
    epochs: int,
    matrix: Sequence[Sequence[int]],
    ops: Sequence[str],
    repeat_stats: Mapping[str, float],
    trainable_parameters: int,
) -> bytes:
    """One official NB101 payload.

    Args:
        module_hash: official hash of the cell.
        epochs: budget (4, 12, 36 or 108).
        matrix: stored (pruned) adjacency.
        ops: stored op names.
        repeat_stats: one repeat's `halfway_*` / `final_*` values with keys as in
            the official `computed_statistics` (e.g. `final_test_accuracy`).
        trainable_parameters: parameter count.
    """
    message = ModelMetrics()
    start = message.evaluation_data.add()
    start.current_epoch = 0.0
    for point, epoch in (("halfway", epochs / 2), ("final", float(epochs))):
        data = message.evaluation_data.add()
        data.current_epoch = epoch
        for metric in METRICS:
            setattr(data, metric, float(repeat_stats[f"{point}_{metric}"]))
    message.trainable_parameters = int(trainable_parameters)
    adjacency = "".join(str(int(x)) for row in matrix for x in row)
    row = [module_hash, int(epochs), adjacency, ",".join(ops), base64.b64encode(message.SerializeToString()).decode()]
    return json.dumps(row).encode()


def split_row(payload: bytes) -> tuple[str, int, str, str, bytes]:
    """Parse one payload's JSON into (hash, epochs, adjacency text, operations text, metrics bytes).

    Raises:
        ValueError: the payload is not a JSON list [str, int, str, str, base64 str].
    """
    try:
        row = json.loads(payload.decode("utf-8"))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(row, list) or len(row) != 5:
        raise ValueError("not a JSON list [hash, epochs, adjacency, operations, metrics]")
    module_hash, epochs, raw_adjacency, raw_ops, raw_metrics = row
    if type(epochs) is not int or not all(
        isinstance(x, str) for x in (module_hash, raw_adjacency, raw_ops, raw_metrics)
    ):
        raise ValueError("fields must be [str, int, str, str, str]")
    try:
        metrics = base64.b64decode(raw_metrics, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"metrics are not base64 ({exc})") from None
    return module_hash, epochs, raw_adjacency, raw_ops, metrics


def decode_row(payload: bytes) -> tuple[str, int, np.ndarray, list[str], Any]:
    """Parse one payload into (hash, epochs, adjacency (V, V) int8, ops, ModelMetrics).

    Raises:
        ValueError: the payload is not an NB101 row (also for protobuf decode errors).
    """
    module_hash, epochs, raw_adjacency, raw_ops, raw_metrics = split_row(payload)
    dim = round(len(raw_adjacency) ** 0.5)
    if dim * dim != len(raw_adjacency) or set(raw_adjacency) - {"0", "1"}:
        raise ValueError("adjacency is not a square 0/1 string")
    adjacency = np.array([int(c) for c in raw_adjacency], dtype=np.int8).reshape(dim, dim)
    try:
        metrics = ModelMetrics.FromString(raw_metrics)
    except DecodeError as exc:
        raise ValueError(f"metrics are not a ModelMetrics protobuf ({exc})") from None
    return module_hash, epochs, adjacency, raw_ops.split(","), metrics
