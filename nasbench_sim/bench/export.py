"""Writing any `BenchmarkTable` as an official NAS-Bench-101 `.tfrecord` file, streaming.

The file is in the exact format of the release (see `bench.tfrecord`): one
record per (cell, budget, repeat), each a JSON list `[module_hash, epochs,
adjacency, operations, metrics]` with `json.dumps`'s default separators and
`metrics` a base64 `ModelMetrics` protobuf, so unmodified code reading NB101
through the official API reads this project's tables (surrogate, partial,
official, a saved folder). The file carries no note of what it holds: a
surrogate's export looks like real data, so name it accordingly.

Layouts (`LAYOUTS`): `only108` (108 epochs, like `nasbench_only108.tfrecord`)
and `full` (4, 12, 36, 108 epochs, like `nasbench_full.tfrecord`). Record
order: cells in the table's row order (a dense table: ascending official hash;
a keyed table: its file's order of first appearance), then budgets ascending,
then repeats in table order (the order of `shared/parity`'s golden files,
which follow the release's).

What the tables do not hold is written as placeholders that the official API
never returns (the same as in `shared/parity`'s golden files, so a re-export of
those is byte-identical): the start-of-training evaluation (`metrics_encoder.START_PLACEHOLDER`:
epoch 0, time 0 s, accuracies 0.1) and `total_time` (`metrics_encoder.TOTAL_TIME_FACTOR` times
the final training time). A (cell, budget, repeat) whose eight values are all
NaN (a cell a keyed table lacks at a budget, a missing repeat) is skipped and
counted; one with only some values NaN is refused (`DataFormatError`), since
the format has no missing values.

Example:
    >>> import pathlib, tempfile, numpy as np
    >>> from nasbench_sim.bench.export import export_tfrecord
    >>> from nasbench_sim.bench.table import BenchmarkTable, FileCells
    >>> from nasbench_sim.bench.tfrecord import decode_row, iter_tfrecord
    >>> from nasbench_sim.space.cell import Cell
    >>> cell = Cell([[0, 1], [0, 0]], ["input", "output"])
    >>> cells = FileCells(np.array([cell.hash], "S32"), np.array([2], np.uint8), np.array([cell.bits], np.int32),
    ...                   np.full((1, 5), -1, np.int8), np.full((1, 1), 3, np.uint8), np.zeros((1, 1), np.int8))
    >>> data = np.full((1, 3, 1, 2, 4), 0.5, np.float32); data[..., 3] = 100.0  # 100 s training time
    >>> table = BenchmarkTable(data, np.array([0]), {"kind": "demo", "epochs": [108]}, cells=cells)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "demo.tfrecord"
    >>> export_tfrecord(table, out, progress=False).records
    3
    >>> module_hash, epochs, adjacency, ops, metrics = decode_row(next(iter_tfrecord(out))[1])
    >>> epochs, adjacency.tolist(), ops, metrics.evaluation_data[2].test_accuracy
    (108, [[0, 1], [0, 0]], ['input', 'output'], 0.5)
"""

from __future__ import annotations

import errno
import os
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import google_crc32c
import numpy as np
from tqdm.auto import tqdm

from nasbench_sim._io import atomic_file
from nasbench_sim.bench.metrics_encoder import metrics_texts
from nasbench_sim.bench.table import METRICS, BenchmarkTable
from nasbench_sim.bench.tfrecord import masked_crc32c
from nasbench_sim.errors import ConfigError, DataFormatError
from nasbench_sim.nb101 import EPOCHS
from nasbench_sim.space.cell import INPUT, OPS, OUTPUT, adjacency_from_bits

#: Budgets (epochs) of each layout.
LAYOUTS: dict[str, tuple[int, ...]] = {"only108": (108,), "full": tuple(EPOCHS)}

_MASK_DELTA = 0xA282EAD8  # of TFRecord's masked CRC (see `masked_crc32c`)
_U64 = struct.Struct("<Q")
_RECORDS_PER_BLOCK = 16384  # records assembled at once (about 4 MB of file, some 50 MB of index arrays)


@dataclass(frozen=True)
class ExportSummary:
    """What `export_tfrecord` wrote.

    Attributes:
        path: the file.
        layout: `only108` or `full`.
        epochs: budgets of the layout.
        cells: cells with at least one record.
        records: records written.
        skipped: (cell, budget, repeat) without values in the table, not written.
        bytes: file size.
        seconds: wall time of the export.
    """

    path: str
    layout: str
    epochs: tuple[int, ...]
    cells: int
    records: int
    skipped: int
    bytes: int
    seconds: float

    @property
    def records_per_second(self) -> float:
        return self.records / max(self.seconds, 1e-9)


def export_tfrecord(
    table: BenchmarkTable,
    out: str | os.PathLike,
    *,
    layout: str = "only108",
    progress: bool = True,
    rows: Sequence[int] | np.ndarray | None = None,
    space: Any = None,
) -> ExportSummary:
    """Write a table as an official-format NB101 `.tfrecord` file, streaming and atomically.

    Records are built in blocks of about 16,000: the JSON text before the
    metrics once per (cell, budget), with each distinct adjacency and op list
    written once; the protobuf bytes and their base64 for the whole block with
    numpy; per record only a slice, its CRC (extending the CRC of its cell's
    text) and a join remain. The file is written beside `out` under a
    temporary name and renamed into place when complete.

    Args:
        table: any table (dense or keyed).
        out: the file to write (replaced if it exists; missing folders are created).
        layout: `only108` or `full` (see `LAYOUTS`).
        progress: show a progress bar (by records).
        rows: table rows to write, in this order (default: every row, in table order).
        space: the cell space, for a dense table's hashes and stored cells (default: this
            machine's cached one); unused for a keyed table.

    Returns:
        An `ExportSummary`.

    Raises:
        ConfigError: unknown layout, a layout budget the table lacks, or bad `rows`.
        DataFormatError: a record with some values missing, values out of range, or no record to write.
        OSError: writing failed; it names `out` (no file is left behind).
    """
    start_time = time.perf_counter()
    epochs = layout_epochs(layout)
    lacking = [e for e in epochs if e not in table.epochs]
    if lacking:
        raise ConfigError(
            f"layout {layout} needs budgets {list(epochs)} epochs; this table ({table.kind}) has {list(table.epochs)}"
            + ("; layout only108 works with it" if 108 in table.epochs else "")
        )
    order = _rows(rows, table.num_cells)
    out = Path(out)
    if out.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(out))
    table.check_values()
    if int(np.max(table.trainable_parameters, initial=0)) >= 2**31:
        raise DataFormatError("trainable_parameters exceed the official format's int32")
    cells = _CellText(table, space, progress)
    budgets = [table.epochs.index(e) for e in epochs]
    repeats = table.num_repeats
    written = skipped = used = 0
    bar = tqdm(
        total=order.size * len(epochs) * repeats,
        unit="rec",
        unit_scale=True,
        desc=f"exporting {out.name}",
        disable=not progress,
    )
    try:
        with atomic_file(out) as handle:
            step = max(1, _RECORDS_PER_BLOCK // (len(epochs) * repeats))
            for first in range(0, order.size, step):
                chunk = order[first : first + step]
                block = _write_block(handle, table, cells, chunk, budgets, epochs)
                written += block[0]
                skipped += block[1]
                used += block[2]
                bar.update(chunk.size * len(epochs) * repeats)
            if not written:
                raise DataFormatError(f"no records to write: the table has no values at {list(epochs)} epochs")
    finally:
        bar.close()
    return ExportSummary(
        path=str(out),
        layout=layout,
        epochs=epochs,
        cells=used,
        records=written,
        skipped=skipped,
        bytes=out.stat().st_size,
        seconds=time.perf_counter() - start_time,
    )


def layout_epochs(layout: Any) -> tuple[int, ...]:
    """The budgets of a layout name (see `LAYOUTS`); `ConfigError` for any other value."""
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise ConfigError(f"unknown layout {layout!r:.40} (choices: {', '.join(LAYOUTS)})")
    return LAYOUTS[layout]


def _rows(rows: Any, num_cells: int) -> np.ndarray:
    """(n,) int64 table rows to write, checked: whole numbers in range, none twice."""
    if rows is None:
        return np.arange(num_cells, dtype=np.int64)
    order = np.asarray(rows)
    if order.ndim != 1 or not (order.size == 0 or np.issubdtype(order.dtype, np.integer)):
        raise ConfigError("rows must be a 1-D sequence of whole numbers (table rows)")
    order = order.astype(np.int64)
    if order.size and (order.min() < 0 or order.max() >= num_cells):
        raise ConfigError(f"rows must lie in [0, {num_cells}), got {int(order.min())} .. {int(order.max())}")
    if np.unique(order).size != order.size:
        raise ConfigError("rows name a table row more than once (the file would repeat its records)")
    return order


class _CellText:
    """The JSON text of table rows before their base64 metrics: `["<hash>", <epochs>, "<adj>", "<ops>", "`."""

    def __init__(self, table: BenchmarkTable, space: Any, progress: bool) -> None:
        source = table.cells
        if source is None:
            if space is None:
                from nasbench_sim.space.cellspace import CellSpace

                space = CellSpace.load_or_build(progress=progress)
            if len(space) != table.num_cells:
                raise DataFormatError(
                    f"a dense table has one row per cell of the space ({len(space):,}); this one has {table.num_cells:,}"
                )
            source = space
        self._hashes = source.hashes
        self._nv = source.num_vertices
        self._bits = source.bits
        self._labels = source.labels
        self._spec: dict[tuple[int, int], bytes] = {}  # (V, edge bits) -> `, "<adj>", "`
        self._ops: dict[tuple[int, ...], bytes] = {}  # interior op indices -> `<ops>", "`

    def hash_of(self, row: int) -> str:
        return bytes(self._hashes[row]).decode()

    def texts(self, rows: np.ndarray, epochs: Sequence[int]) -> list[bytes]:
        """Per (row, budget), flattened: the payload's text before the base64 metrics.

        Distinct adjacencies (a few thousand) and op lists (a few hundred) are written once each.
        """
        nv = np.asarray(self._nv)[rows].astype(np.int64)
        adjacency, which_adjacency = np.unique((nv << 32) | np.asarray(self._bits)[rows], return_inverse=True)
        labels = np.where(np.arange(5) < (nv - 2)[:, None], np.asarray(self._labels)[rows] + 1, 0)
        _, which_ops = np.unique(labels @ (4 ** np.arange(5)), return_inverse=True)
        first_ops = labels[np.unique(which_ops, return_index=True)[1]]
        spec_text = [self._adjacency_text(int(k) >> 32, int(k) & 0xFFFFFFFF) for k in adjacency.tolist()]
        ops_text = [self._ops_text(tuple(k - 1 for k in lab if k)) for lab in first_ops.tolist()]
        rests = [spec_text[a] + ops_text[o] for a, o in zip(which_adjacency.tolist(), which_ops.tolist(), strict=True)]
        starts = [b'["' + h + b'", ' for h in np.asarray(self._hashes)[rows].tolist()]
        epoch_text = [str(e).encode() for e in epochs]
        return [start + e + rest for start, rest in zip(starts, rests, strict=True) for e in epoch_text]

    def _adjacency_text(self, n: int, bits: int) -> bytes:
        text = self._spec.get((n, bits))
        if text is None:
            matrix = adjacency_from_bits(n, bits).ravel().tolist()
            text = self._spec[(n, bits)] = (', "' + "".join("1" if x else "0" for x in matrix) + '", "').encode()
        return text

    def _ops_text(self, labels: tuple[int, ...]) -> bytes:
        text = self._ops.get(labels)
        if text is None:
            text = self._ops[labels] = (",".join([INPUT, *(OPS[k] for k in labels), OUTPUT]) + '", "').encode()
        return text


def _write_block(
    handle: IO[bytes],
    table: BenchmarkTable,
    cells: _CellText,
    rows: np.ndarray,
    budgets: list[int],
    epochs: tuple[int, ...],
) -> tuple[int, int, int]:
    """Write the records of some table rows; (records written, skipped, cells with a record).

    The protobuf bytes and base64 text of the block are made with numpy; per record a slice, a CRC
    extending its (cell, budget) text's CRC and a join remain.
    """
    ascending = np.sort(rows)  # memory-mapped reads in ascending order, then the rows' own order
    values = np.asarray(table.data[ascending], dtype=np.float64)
    if not np.array_equal(ascending, rows):
        values = values[np.searchsorted(ascending, rows)]
    values = values[:, :, budgets].transpose(0, 2, 1, 3, 4)  # (cell, budget, repeat, point, metric)
    missing = np.isnan(values).reshape(*values.shape[:3], -1)
    present = ~missing.any(axis=-1)
    partial = missing.any(axis=-1) & ~missing.all(axis=-1)
    if partial.any():
        c, b, r = (int(i[0]) for i in np.nonzero(partial))
        raise DataFormatError(
            f"cell {cells.hash_of(int(rows[c]))} at {epochs[b]} epochs, repeat {r}: some "
            "values are NaN and others not; the official format has no missing values"
        )
    n_budgets, n_repeats = present.shape[1:]
    index = np.flatnonzero(present.ravel())  # records in file order: cell, budget, repeat
    n = index.size
    if not n:
        return 0, int(present.size), 0
    cell_budget = index // n_repeats
    cell = cell_budget // n_budgets
    heads = cells.texts(rows, epochs)  # (cell, budget) flattened
    head_crc = [google_crc32c.value(h) for h in heads]
    texts, text_len = metrics_texts(
        values.reshape(-1, 2, len(METRICS))[index],
        np.asarray(epochs, dtype=np.float64)[cell_budget % n_budgets],
        np.asarray(table.trainable_parameters, dtype=np.int64)[rows][cell],
    )
    lengths = np.array([len(h) for h in heads], dtype=np.int64)[cell_budget] + text_len
    unique, inverse = np.unique(lengths, return_inverse=True)
    framing = [struct.pack("<QI", x, masked_crc32c(_U64.pack(x))) for x in unique.tolist()]
    headers = [framing[k] for k in inverse.tolist()]
    which = cell_budget.tolist()
    extend = google_crc32c.extend
    crc = np.array([extend(head_crc[k], t) for k, t in zip(which, texts, strict=True)], dtype=np.uint64)
    crc = (((crc >> np.uint64(15)) | (crc << np.uint64(17))) + np.uint64(_MASK_DELTA)) & np.uint64(0xFFFFFFFF)
    packed = crc.astype("<u4").tobytes()
    parts: list[bytes] = [b""] * (4 * n)
    parts[0::4] = headers
    parts[1::4] = [heads[k] for k in which]
    parts[2::4] = texts
    parts[3::4] = [packed[k : k + 4] for k in range(0, 4 * n, 4)]
    handle.write(b"".join(parts))
    return n, int(present.size) - n, int(np.unique(cell).size)
