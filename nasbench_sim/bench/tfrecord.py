"""Read (and, for tests and tools, write) the official NB101 `.tfrecord` files without TensorFlow.

File layout (TFRecord framing): per record a little-endian uint64 length, its
masked CRC-32C, the payload, and the payload's masked CRC-32C. Each NB101
payload is a JSON list `[module_hash, epochs, adjacency, operations, metrics]`:
`adjacency` a string of V*V '0'/'1' characters (row-major), `operations`
comma-separated op names, `metrics` a base64 `nasbench.ModelMetrics` protobuf
whose `evaluation_data` holds the evaluations at the start, halfway point and
end of training. One record per (cell, budget, repeat), repeats in file order.

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
import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import google_crc32c
import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from tqdm.auto import tqdm

from nasbench_sim.bench.table import EPOCHS, METRICS, NUM_REPEATS, TABLE_FORMAT_VERSION, BenchmarkTable
from nasbench_sim.errors import DataFormatError, OutOfDomainError

_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of `data`."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def iter_tfrecord(path: str | os.PathLike) -> Iterator[tuple[int, bytes]]:
    """Yield (byte offset, payload) of every record, checking both CRCs.

    Raises:
        DataFormatError: truncated or corrupt record; the message gives the byte offset.
    """
    with open(path, "rb") as handle:
        offset = 0
        while True:
            header = handle.read(_HEADER.size)
            if not header:
                return
            if len(header) < _HEADER.size:
                raise DataFormatError(f"{path}: truncated record header at byte offset {offset}")
            length, length_crc = _HEADER.unpack(header)
            if masked_crc32c(header[:8]) != length_crc:
                raise DataFormatError(f"{path}: corrupt record length (CRC mismatch) at byte offset {offset}")
            body = handle.read(length + _CRC.size)
            if len(body) < length + _CRC.size:
                raise DataFormatError(
                    f"{path}: truncated record at byte offset {offset}: needs {length} payload bytes, file ends first"
                )
            payload = body[:length]
            if masked_crc32c(payload) != _CRC.unpack(body[length:])[0]:
                raise DataFormatError(f"{path}: corrupt record data (CRC mismatch) at byte offset {offset}")
            yield offset, payload
            offset += _HEADER.size + length + _CRC.size


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


def decode_row(payload: bytes) -> tuple[str, int, np.ndarray, list[str], Any]:
    """Parse one payload into (hash, epochs, adjacency (V, V) int8, ops, ModelMetrics).

    Raises:
        ValueError: the payload is not an NB101 row.
    """
    module_hash, epochs, raw_adjacency, raw_ops, raw_metrics = json.loads(payload.decode("utf-8"))
    dim = round(len(raw_adjacency) ** 0.5)
    if dim * dim != len(raw_adjacency) or set(raw_adjacency) - {"0", "1"}:
        raise ValueError("adjacency is not a square 0/1 string")
    adjacency = np.array([int(c) for c in raw_adjacency], dtype=np.int8).reshape(dim, dim)
    metrics = ModelMetrics.FromString(base64.b64decode(raw_metrics, validate=True))
    return str(module_hash), int(epochs), adjacency, raw_ops.split(","), metrics


def convert_tfrecord(
    path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    space: Any,
    progress: bool = True,
) -> BenchmarkTable:
    """Convert an official `.tfrecord` into a cached `BenchmarkTable`, streaming.

    Memory stays bounded: records are read one at a time and written into a
    memory-mapped array under a temporary folder that is renamed into place
    only when the whole file converted cleanly.

    Args:
        path: `nasbench_only108.tfrecord`, `nasbench_full.tfrecord` or a file in their format.
        out: folder of the table to write.
        space: the `CellSpace` that maps hashes to rows.
        progress: show a progress bar (by bytes).

    Raises:
        DataFormatError: truncated, corrupt or malformed input (names the byte offset).
    """
    path = Path(path)
    out = Path(out)
    if not path.is_file():
        raise DataFormatError(f"{path}: no such file")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        num_cells = len(space)
        shape = (num_cells, NUM_REPEATS, len(EPOCHS), 2, len(METRICS))
        data = np.lib.format.open_memmap(tmp / "full.npy", mode="w+", dtype=np.float32, shape=shape)
        data[:] = np.nan
        params = np.full(num_cells, -1, dtype=np.int64)
        seen = np.zeros((num_cells, len(EPOCHS)), dtype=np.int8)
        digest = hashlib.sha256()
        num_records = 0
        bar = tqdm(
            total=path.stat().st_size, unit="B", unit_scale=True, desc=f"converting {path.name}", disable=not progress
        )
        for offset, payload in iter_tfrecord(path):
            digest.update(payload)
            try:
                module_hash, epochs, _, _, metrics = decode_row(payload)
                budget = EPOCHS.index(epochs)
                evaluations = metrics.evaluation_data
                if len(evaluations) < 3:
                    raise ValueError(f"{len(evaluations)} evaluations, expected start/halfway/final")
            except (ValueError, TypeError, DecodeError, UnicodeDecodeError) as exc:
                raise DataFormatError(f"{path}: malformed NB101 row at byte offset {offset}: {exc}") from None
            try:
                row = space.index_of_hash(module_hash)
            except OutOfDomainError:
                raise DataFormatError(f"{path}: unknown module hash {module_hash!r} at byte offset {offset}") from None
            repeat = int(seen[row, budget])
            if repeat >= NUM_REPEATS:
                raise DataFormatError(
                    f"{path}: more than {NUM_REPEATS} repeats of {module_hash} at byte offset {offset}"
                )
            seen[row, budget] += 1
            for point, evaluation in enumerate((evaluations[1], evaluations[2])):
                data[row, repeat, budget, point] = [getattr(evaluation, m) for m in METRICS]
            params[row] = metrics.trainable_parameters
            num_records += 1
            bar.update(_HEADER.size + len(payload) + _CRC.size)
        bar.close()
        if num_records == 0:
            raise DataFormatError(f"{path}: no records")
        present = [i for i in range(len(EPOCHS)) if seen[:, i].any()]
        missing_params = params < 0
        params[missing_params] = np.asarray(space.trainable_parameters)[missing_params]
        table_dir = tmp / "table"
        table_dir.mkdir()
        final = np.lib.format.open_memmap(
            table_dir / "data.npy",
            mode="w+",
            dtype=np.float32,
            shape=(num_cells, NUM_REPEATS, len(present), 2, len(METRICS)),
        )
        for start in range(0, num_cells, 65536):
            final[start : start + 65536] = data[start : start + 65536][:, :, present]
        final.flush()
        del final, data
        np.save(table_dir / "trainable_parameters.npy", params, allow_pickle=False)
        meta = {
            "format_version": TABLE_FORMAT_VERSION,
            "kind": "official",
            "source": f"official NB101 tfrecord {path.name}",
            "source_sha256_of_payloads": digest.hexdigest(),
            "num_records": num_records,
            "cells_with_data": int(seen.any(axis=1).sum()),
            "epochs": [EPOCHS[i] for i in present],
            "real_fields": ["all values present in the file"],
            "modelled_fields": [],
            "arrays": ["data", "trainable_parameters"],
        }
        (table_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(table_dir, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return BenchmarkTable.load(out)
