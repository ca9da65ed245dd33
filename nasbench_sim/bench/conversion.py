"""Converting an official-format NB101 `.tfrecord` file into a keyed `BenchmarkTable`, streaming.

`convert_tfrecord` reads the file with the record codec (`bench.tfrecord`)
into a keyed table (one row per cell of the file, in file order; see
`bench.table`), checking CRCs, field types, that each stored cell is a pruned
NB101 cell whose official hash is the record's, and that a record's length
fits in the rest of the file. Any bad input raises `DataFormatError` naming
the byte offset, and leaves neither a table nor a temporary folder behind.

Example:
    >>> import tempfile, pathlib
    >>> from nasbench_sim.bench.conversion import convert_tfrecord
    >>> from nasbench_sim.bench.tfrecord import write_tfrecord
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_tfrecord(folder / "bad.tfrecord", [b"not json"])
    >>> convert_tfrecord(folder / "bad.tfrecord", folder / "table", progress=False)
    Traceback (most recent call last):
    ...
    nasbench_sim.errors.DataFormatError: .../bad.tfrecord: malformed NB101 row at byte offset 0: ...
    >>> sorted(p.name for p in folder.iterdir())
    ['bad.tfrecord']
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import shutil
import tempfile
from array import array
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from nasbench_sim._io import preallocate, scratch_prefix
from nasbench_sim.bench.table import METRICS, NUM_REPEATS, POINTS, BenchmarkTable, FileCells
from nasbench_sim.bench.tfrecord import FRAMING_BYTES, decode_row, iter_tfrecord
from nasbench_sim.errors import DataFileNotFoundError, DataFormatError, OutOfDomainError
from nasbench_sim.nb101 import EPOCHS
from nasbench_sim.space.cell import MAX_VERTICES, Cell


def _check_record_values(evaluations: Any) -> None:
    """Refuse a record whose halfway or final values no NB101 training gives.

    Raises:
        ValueError: an accuracy outside [0, 1] or a training time that is negative or not finite.
    """
    for evaluation in (evaluations[1], evaluations[2]):
        for metric in METRICS:
            value = getattr(evaluation, metric)
            limit = math.inf if metric == "training_time" else 1.0
            if not (0.0 <= value <= limit) or value == math.inf:
                raise ValueError(f"{metric} {value!r} is outside [0, {limit:g}]")


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
    cells are numbered in order of first appearance; then the values are
    placed into a memory-mapped scratch array and the table (one row per cell
    of the file, see `bench.table`) is written by `BenchmarkTable.save`, which
    renames it into place only when complete; the scratch folder is removed
    either way. Memory holds a few bytes per record and per cell, not the
    values. Values are stored as float32 when that is exact for every value
    (true of the release files), else as float64.

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
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=scratch_prefix(out), suffix=".tmp"))
    try:
        digest = hashlib.sha256()
        cell_of_hash: dict[str, int] = {}
        hashes: list[str] = []
        offsets: list[int] = []
        signatures: list[int] = []  # per cell: a hash of its first record's adjacency and ops
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
                    signature = hash((np.asarray(adjacency).tobytes(), tuple(ops)))
                    cell = cell_of_hash.get(module_hash)
                    if cell is None:
                        stored = _stored_cell(module_hash, adjacency, ops, verify_hash=space is None)
                        cell = cell_of_hash[module_hash] = len(hashes)
                        hashes.append(module_hash)
                        offsets.append(offset)
                        signatures.append(signature)
                        compact.append((stored.num_vertices, stored.bits, stored.labels))
                        params.append(int(metrics.trainable_parameters))
                        counts.extend(bytes(len(EPOCHS)))
                        order.extend(bytes(len(EPOCHS)))
                    elif signatures[cell] != signature:
                        raise ValueError(
                            f"module hash {module_hash} was stored at byte offset {offsets[cell]} with another "
                            "adjacency or ops"
                        )
                    _check_record_values(evaluations)
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
                bar.update(FRAMING_BYTES + len(payload))
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
        shape = (len(hashes), repeats, len(present), len(POINTS), len(METRICS))
        data = np.lib.format.open_memmap(
            tmp / "data.npy", mode="w+", dtype=np.float32 if exact32 else np.float64, shape=shape
        )
        preallocate(tmp / "data.npy")  # a full disk is an OSError here, not a SIGBUS in the writes below
        data[:] = np.nan
        values = np.memmap(tmp / "values.f64", dtype=np.float64, mode="r").reshape(-1, len(POINTS), len(METRICS))
        cells_of_record = np.frombuffer(record_cells, dtype=np.int32)
        slots = np.frombuffer(record_slots, dtype=np.uint8)
        budget_of_record = position[slots // NUM_REPEATS + 1]
        for start in range(0, len(cells_of_record), _CHUNK):
            part = slice(start, start + _CHUNK)
            data[cells_of_record[part], slots[part] % NUM_REPEATS, budget_of_record[part]] = values[part]
        del values
        cells = FileCells(
            hashes=hash_array,
            num_vertices=nv,
            bits=bits,
            labels=labels,
            repeat_counts=np.ascontiguousarray(all_counts[:, present]),
            epoch_order=np.ascontiguousarray(epoch_order),
        )
        meta = {
            "kind": "official",
            "source": f"official NB101-format tfrecord {path.name}",
            "source_path": str(path.resolve()),
            "source_size": path.stat().st_size,
            "source_sha256": digest.hexdigest(),
            "num_records": len(cells_of_record),
            "epochs": [EPOCHS[b] for b in present],
            "values_dtype": "float32" if exact32 else "float64",
            "real_fields": ["all values present in the file"],
            "modelled_fields": [],
            "converted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        BenchmarkTable(data, np.array(params, dtype=np.int64), meta, cells=cells).save(out)
        del data
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
