"""Converting an official-format NB101 `.tfrecord` file into a keyed `BenchmarkTable`, streaming.

`convert_tfrecord` reads the file in blocks with the record codec
(`bench.tfrecord`), parses and checks each block's records in batches
(`bench.official_records`) and writes a keyed table (one row per cell of the
file, in file order; see `bench.table`). It checks CRCs, that a record's
length fits in the rest of the file, field types, budgets, that each stored
cell is a pruned NB101 cell whose official hash is the record's (for every
record of the hash), value ranges and repeat counts. It needs no cell-space
enumeration. Any bad input raises `DataFormatError` naming the byte offset of
the first bad record, and leaves neither a table nor a temporary folder behind.

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
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from nasbench_sim._io import preallocate, scratch_prefix
from nasbench_sim._runner import spawn_pool, stop_pool
from nasbench_sim.bench.official_records import RecordParser
from nasbench_sim.bench.table import METRICS, NUM_REPEATS, POINTS, BenchmarkTable, FileCells
from nasbench_sim.bench.tfrecord import iter_record_blocks
from nasbench_sim.errors import DataFileNotFoundError, DataFormatError
from nasbench_sim.nb101 import EPOCHS

_CHUNK = 65536  # records per block of values placed into the table
#: Bytes of the file read and parsed at a time.
_BLOCK_BYTES = 1 << 24
#: Files from this size on check their cells' hashes in a second process while the next block is parsed.
_POOL_BYTES = 64 << 20


def convert_tfrecord(
    path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    expected_sha256: str | None = None,
    progress: bool = True,
) -> BenchmarkTable:
    """Convert an official-format `.tfrecord` into a keyed `BenchmarkTable` folder, streaming.

    One pass over the file, a block at a time: each record's 8 values go to a
    scratch file, the cells are numbered in order of first appearance; then the values are
    placed into a memory-mapped scratch array and the table (one row per cell
    of the file, see `bench.table`) is written by `BenchmarkTable.save`, which
    renames it into place only when complete; the scratch folder is removed
    either way. Memory holds a few bytes per record and per cell, not the
    values. Values are stored as float32 when that is exact for every value
    (true of the release files), else as float64.

    Args:
        path: `nasbench_only108.tfrecord`, `nasbench_full.tfrecord` or any file in their format.
        out: folder of the table to write.
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
        pool = spawn_pool(1) if path.stat().st_size >= _POOL_BYTES else None
        parser = RecordParser(path, pool)
        record_cells, record_slots = [], []
        exact32 = True
        done = 0
        bar = tqdm(
            total=path.stat().st_size, unit="B", unit_scale=True, desc=f"converting {path.name}", disable=not progress
        )
        try:
            with open(tmp / "values.f64", "wb") as scratch:
                for block in iter_record_blocks(path, digest, _BLOCK_BYTES):
                    cells, slots, values = parser.parse(block.offsets, block.payloads)
                    if block.error is not None:
                        parser.finish()
                        raise block.error
                    scratch.write(values.tobytes())
                    with np.errstate(over="ignore"):  # a value beyond float32: not exact, stored as float64
                        exact32 &= bool(
                            np.array_equal(values.astype(np.float32).astype(np.float64), values, equal_nan=True)
                        )
                    record_cells.append(cells)
                    record_slots.append(slots)
                    bar.update(block.end - done)
                    done = block.end
                parser.finish()
        finally:
            if pool is not None:
                stop_pool(pool)
        bar.close()
        if expected_sha256 is not None and digest.hexdigest() != expected_sha256:
            raise DataFormatError(f"{path}: the file changed while it was being converted; try again")
        if not parser.hashes:
            raise DataFormatError(f"{path}: no records")
        nv, bits, labels, params = parser.compact_cells()
        hash_array = np.array(parser.hashes, dtype="S32")
        all_counts = parser.repeat_counts()
        present = [b for b in range(len(EPOCHS)) if all_counts[:, b].any()]
        position = np.full(len(EPOCHS) + 1, -1, dtype=np.int8)  # 1 + budget index -> budget axis position
        position[[b + 1 for b in present]] = np.arange(len(present))
        epoch_order = position[parser.budget_order()][:, : len(present)]
        repeats = int(all_counts.max())
        shape = (len(hash_array), repeats, len(present), len(POINTS), len(METRICS))
        data = np.lib.format.open_memmap(
            tmp / "data.npy", mode="w+", dtype=np.float32 if exact32 else np.float64, shape=shape
        )
        preallocate(tmp / "data.npy")  # a full disk is an OSError here, not a SIGBUS in the writes below
        data[:] = np.nan
        cells_of_record = np.concatenate(record_cells)
        slots = np.concatenate(record_slots)
        budget_of_record = position[slots // NUM_REPEATS + 1]
        with open(tmp / "values.f64", "rb") as scratch:  # read back a chunk at a time: memory stays small
            for start in range(0, len(cells_of_record), _CHUNK):
                part = slice(start, start + _CHUNK)
                values = np.fromfile(scratch, dtype=np.float64, count=_CHUNK * len(POINTS) * len(METRICS))
                data[cells_of_record[part], slots[part] % NUM_REPEATS, budget_of_record[part]] = values.reshape(
                    -1, len(POINTS), len(METRICS)
                )
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
        BenchmarkTable(data, params, meta, cells=cells).save(out)
        del data
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return BenchmarkTable.load(out)
