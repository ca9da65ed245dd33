"""Read (and, for tests and tools, write) the official NB101 `.tfrecord` files without TensorFlow.

File layout (TFRecord framing): per record a little-endian uint64 length, its
masked CRC-32C, the payload, and the payload's masked CRC-32C. Each NB101
payload is a JSON list `[module_hash, epochs, adjacency, operations, metrics]`:
`adjacency` a string of V*V '0'/'1' characters (row-major), `operations`
comma-separated op names, `metrics` a base64 `nasbench.ModelMetrics` protobuf
whose `evaluation_data` holds the evaluations at the start, halfway point and
end of training. One record per (cell, budget, repeat), repeats in file order.

`convert_tfrecord` streams such a file into a keyed `BenchmarkTable` (one row
per cell of the file, in file order; see `bench.table`), checking CRCs, field
types, that each stored cell is a pruned NB101 cell whose official hash is the
record's, and that a record's length fits in the rest of the file. Any bad
input raises `DataFormatError` naming the byte offset.

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
import errno
import hashlib
import json
import os
import shutil
import struct
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import google_crc32c
import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from tqdm.auto import tqdm

from nasbench_sim.bench.table import (
    EPOCHS,
    KEYED_FORMAT_VERSION,
    METRICS,
    NUM_REPEATS,
    POINTS,
    BenchmarkTable,
    coverage,
)
from nasbench_sim.errors import DataFileNotFoundError, DataFormatError, OutOfDomainError
from nasbench_sim.space.cell import MAX_VERTICES, Cell

_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of `data`."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def iter_tfrecord(path: str | os.PathLike, digest: Any = None) -> Iterator[tuple[int, bytes]]:
    """Yield (byte offset, payload) of every record, checking both CRCs.

    A record's claimed length is checked against what is left of the file
    before anything is read, so a corrupt length never allocates memory.

    Args:
        path: the file.
        digest: optional `hashlib` object updated with every byte of the file, in order.

    Raises:
        DataFormatError: truncated or corrupt record; the message gives the byte offset.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        offset = 0
        while True:
            header = handle.read(_HEADER.size)
            if digest is not None:
                digest.update(header)
            if not header:
                return
            if len(header) < _HEADER.size:
                raise DataFormatError(f"{path}: truncated record header at byte offset {offset}")
            length, length_crc = _HEADER.unpack(header)
            if masked_crc32c(header[:8]) != length_crc:
                raise DataFormatError(f"{path}: corrupt record length (CRC mismatch) at byte offset {offset}")
            left = size - offset - _HEADER.size
            if length + _CRC.size > left:
                raise DataFormatError(
                    f"{path}: truncated record at byte offset {offset}: needs {length} payload bytes, "
                    f"the file has {max(left - _CRC.size, 0)} left"
                )
            body = handle.read(length + _CRC.size)
            if digest is not None:
                digest.update(body)
            if len(body) < length + _CRC.size:
                raise DataFormatError(f"{path}: truncated record at byte offset {offset}: the file ended while reading")
            payload = body[:length]
            if masked_crc32c(payload) != _CRC.unpack(body[length:])[0]:
                raise DataFormatError(f"{path}: corrupt record data (CRC mismatch) at byte offset {offset}")
            yield offset, payload
            offset += _HEADER.size + length + _CRC.size


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


def decode_row(payload: bytes) -> tuple[str, int, np.ndarray, list[str], Any]:
    """Parse one payload into (hash, epochs, adjacency (V, V) int8, ops, ModelMetrics).

    Raises:
        ValueError: the payload is not an NB101 row (also for protobuf decode errors).
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
    dim = round(len(raw_adjacency) ** 0.5)
    if dim * dim != len(raw_adjacency) or set(raw_adjacency) - {"0", "1"}:
        raise ValueError("adjacency is not a square 0/1 string")
    adjacency = np.array([int(c) for c in raw_adjacency], dtype=np.int8).reshape(dim, dim)
    try:
        metrics = ModelMetrics.FromString(base64.b64decode(raw_metrics, validate=True))
    except DecodeError as exc:
        raise ValueError(f"metrics are not a ModelMetrics protobuf ({exc})") from None
    return module_hash, epochs, adjacency, raw_ops.split(","), metrics


def _stored_cell(module_hash: str, adjacency: np.ndarray, ops: list[str], verify_hash: bool) -> Cell:
    """The cell a row stores, checked: a pruned NB101 cell (and, if asked, one with this hash).

    Raises:
        ValueError: not a valid stored cell, or the hash does not match.
    """
    try:
        cell = Cell(adjacency, ops)
    except OutOfDomainError as exc:
        raise ValueError(f"stored cell of {module_hash} is not an NB101 cell: {exc}") from None
    if cell.num_vertices != adjacency.shape[0]:
        raise ValueError(f"stored cell of {module_hash} is not pruned")
    if verify_hash and cell.hash != module_hash:
        raise ValueError(f"module hash {module_hash!r} does not match its adjacency and ops (they hash to {cell.hash})")
    return cell


_CHUNK = 65536  # records per block of values written to the scratch file


def convert_tfrecord(
    path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    space: Any = None,
    expected_sha256: str | None = None,
    progress: bool = True,
) -> BenchmarkTable:
    """Convert an official-format `.tfrecord` into a keyed `BenchmarkTable` folder, streaming.

    One pass over the file: each record's 8 values go to a scratch file, the
    cells are numbered in order of first appearance; then the table (one row
    per cell of the file, see `bench.table`) is assembled in a temporary folder
    that is renamed into place only when the whole file converted cleanly.
    Memory holds a few bytes per record and per cell, not the values. Values
    are stored as float32 when that is exact for every value (true of the
    release files), else as float64.

    Args:
        path: `nasbench_only108.tfrecord`, `nasbench_full.tfrecord` or any file in their format.
        out: folder of the table to write.
        space: optional loaded `CellSpace`: verifies the file's hashes in one
            vectorised step. Without it each new cell's hash is recomputed from
            its stored adjacency and ops (about 0.2 ms per cell).
        expected_sha256: SHA-256 of the file's bytes that the caller keyed the
            cache by; a file that changed since is refused.
        progress: show a progress bar (by bytes).

    Raises:
        DataFileNotFoundError: no such file.
        DataFormatError: truncated, corrupt or malformed input (names the byte
            offset), a hash that does not match its cell, or a changed file.
    """
    path = Path(path)
    out = Path(out)
    if not path.is_file():
        raise DataFileNotFoundError(errno.ENOENT, "no such file", str(path))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        digest = hashlib.sha256()
        cell_of_hash: dict[str, int] = {}
        hashes: list[str] = []
        offsets: list[int] = []
        compact: list[tuple[int, int, tuple[int, ...]]] = []
        params: list[int] = []
        counts = bytearray()  # (cell, budget) repeats seen
        order = bytearray()  # (cell, position) 1 + budget index, in file order; 0 = none
        record_cells = array("i")
        record_slots = bytearray()  # budget * NUM_REPEATS + repeat
        buffer: list[float] = []
        exact32 = True
        bar = tqdm(
            total=path.stat().st_size, unit="B", unit_scale=True, desc=f"converting {path.name}", disable=not progress
        )
        with open(tmp / "values.f64", "wb") as scratch:

            def flush() -> bool:
                block = np.array(buffer, dtype=np.float64)
                scratch.write(block.tobytes())
                buffer.clear()
                return bool(np.array_equal(block.astype(np.float32).astype(np.float64), block, equal_nan=True))

            for offset, payload in iter_tfrecord(path, digest):
                try:
                    module_hash, epochs, adjacency, ops, metrics = decode_row(payload)
                    if epochs not in EPOCHS:
                        raise ValueError(f"{epochs} epochs is not an NB101 budget {list(EPOCHS)}")
                    evaluations = metrics.evaluation_data
                    if len(evaluations) < 3:
                        raise ValueError(f"{len(evaluations)} evaluations, expected start/halfway/final")
                    cell = cell_of_hash.get(module_hash)
                    if cell is None:
                        stored = _stored_cell(module_hash, adjacency, ops, verify_hash=space is None)
                        cell = cell_of_hash[module_hash] = len(hashes)
                        hashes.append(module_hash)
                        offsets.append(offset)
                        compact.append((stored.num_vertices, stored.bits, stored.labels))
                        params.append(int(metrics.trainable_parameters))
                        counts.extend(bytes(len(EPOCHS)))
                        order.extend(bytes(len(EPOCHS)))
                except ValueError as exc:
                    raise DataFormatError(f"{path}: malformed NB101 row at byte offset {offset}: {exc}") from None
                budget = EPOCHS.index(epochs)
                slot = cell * len(EPOCHS) + budget
                repeat = counts[slot]
                if repeat >= NUM_REPEATS:
                    raise DataFormatError(
                        f"{path}: more than {NUM_REPEATS} repeats of {module_hash} at {epochs} epochs, "
                        f"at byte offset {offset}"
                    )
                if repeat == 0:  # the cell's next budget in file order
                    first = cell * len(EPOCHS)
                    order[first + sum(1 for x in order[first : first + len(EPOCHS)] if x)] = budget + 1
                counts[slot] = repeat + 1
                record_cells.append(cell)
                record_slots.append(budget * NUM_REPEATS + repeat)
                for evaluation in (evaluations[1], evaluations[2]):
                    buffer += [getattr(evaluation, m) for m in METRICS]
                if len(buffer) >= _CHUNK * 8:
                    exact32 &= flush()
                bar.update(_HEADER.size + len(payload) + _CRC.size)
            if buffer:
                exact32 &= flush()
        bar.close()
        if expected_sha256 is not None and digest.hexdigest() != expected_sha256:
            raise DataFormatError(f"{path}: the file changed while it was being converted; try again")
        if not hashes:
            raise DataFormatError(f"{path}: no records")
        nv = np.array([c[0] for c in compact], dtype=np.uint8)
        bits = np.array([c[1] for c in compact], dtype=np.int32)
        labels = np.full((len(hashes), MAX_VERTICES - 2), -1, dtype=np.int8)
        for i, (n, _, lab) in enumerate(compact):
            labels[i, : n - 2] = lab
        hash_array = np.array(hashes, dtype="S32")
        if space is not None:
            _verify_hashes(path, hash_array, nv, bits, labels, offsets, space)
        all_counts = np.frombuffer(counts, dtype=np.uint8).reshape(-1, len(EPOCHS))
        present = [b for b in range(len(EPOCHS)) if all_counts[:, b].any()]
        position = np.full(len(EPOCHS) + 1, -1, dtype=np.int8)  # 1 + budget index -> budget axis position
        position[[b + 1 for b in present]] = np.arange(len(present))
        epoch_order = position[np.frombuffer(order, dtype=np.uint8).reshape(-1, len(EPOCHS))][:, : len(present)]
        repeats = int(all_counts.max())
        table_dir = tmp / "table"
        table_dir.mkdir()
        shape = (len(hashes), repeats, len(present), len(POINTS), len(METRICS))
        data = np.lib.format.open_memmap(
            table_dir / "data.npy", mode="w+", dtype=np.float32 if exact32 else np.float64, shape=shape
        )
        data[:] = np.nan
        values = np.memmap(tmp / "values.f64", dtype=np.float64, mode="r").reshape(-1, len(POINTS), len(METRICS))
        cells_of_record = np.frombuffer(record_cells, dtype=np.int32)
        slots = np.frombuffer(record_slots, dtype=np.uint8)
        budget_of_record = position[slots // NUM_REPEATS + 1]
        for start in range(0, len(cells_of_record), _CHUNK):
            part = slice(start, start + _CHUNK)
            data[cells_of_record[part], slots[part] % NUM_REPEATS, budget_of_record[part]] = values[part]
        data.flush()
        del data, values
        epochs = [EPOCHS[b] for b in present]
        arrays = {
            "trainable_parameters": np.array(params, dtype=np.int64),
            "hashes": hash_array,
            "num_vertices": nv,
            "bits": bits,
            "labels": labels,
            "repeat_counts": np.ascontiguousarray(all_counts[:, present]),
            "epoch_order": np.ascontiguousarray(epoch_order),
        }
        for name, value in arrays.items():
            np.save(table_dir / f"{name}.npy", value, allow_pickle=False)
        meta = {
            "format_version": KEYED_FORMAT_VERSION,
            "kind": "official",
            "source": f"official NB101-format tfrecord {path.name}",
            "source_path": str(path.resolve()),
            "source_size": path.stat().st_size,
            "source_sha256": digest.hexdigest(),
            "num_records": len(cells_of_record),
            "epochs": epochs,
            "values_dtype": "float32" if exact32 else "float64",
            "coverage": coverage(arrays["repeat_counts"], tuple(epochs)),
            "real_fields": ["all values present in the file"],
            "modelled_fields": [],
            "converted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "arrays": ["data", *arrays],
        }
        (table_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(table_dir, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return BenchmarkTable.load(out)


def _verify_hashes(
    path: Path,
    hashes: np.ndarray,
    num_vertices: np.ndarray,
    bits: np.ndarray,
    labels: np.ndarray,
    offsets: list[int],
    space: Any,
) -> None:
    """Check every cell's hash against the cell space, vectorised (the stored cells are already validated)."""
    rows = space.indices_from_compact(num_vertices, bits, labels)
    bad = np.flatnonzero(np.asarray(space.hashes)[rows] != hashes)
    if bad.size:
        i = int(bad[0])
        raise DataFormatError(
            f"{path}: malformed NB101 row at byte offset {offsets[i]}: module hash {hashes[i].decode()!r} "
            f"does not match its adjacency and ops (they hash to {space.hashes[rows[i]].decode()})"
        )
