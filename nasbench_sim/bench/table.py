"""One table format for every NB101 data source, in two layouts.

`data` is float32 (float64 for an official-format file whose values float32
cannot hold exactly) with axes (cell, repeat, budget, point, metric):

- cell: a table row (see the layouts below);
- repeat: training repeat (3 in NB101), in the order the source lists them;
- budget: the epoch budgets listed in `epochs` (a subset of `nb101.EPOCHS`, ascending);
- point: 0 = halfway through training, 1 = end of training;
- metric: train, validation, test accuracy in [0, 1]; training time in seconds.

NaN where a source has no value. `trainable_parameters` is int64 (cell,).

Layouts:

- **dense** (the real partial table, the surrogate): one row per cell of the
  whole space, row `i` = the `i`-th official hash in ascending order (`CellSpace`).
- **keyed** (a converted official-format file): one row per cell *of the file*,
  in the file's order of first appearance; `cells` (a `FileCells`) names each
  row's official hash, stored adjacency and ops, and how many repeats each
  budget has. Storage is proportional to the file; no `CellSpace` is needed to
  read it. `coverage` says which cells, budgets and repeats have data, and
  whether the table covers the whole space (`complete`).

Saved as a folder of `.npy` files plus `meta.json` naming the source and which
fields are real and which are modelled (format 1 = dense, 2 = keyed).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench.table import BenchmarkTable, METRICS
    >>> data = np.full((2, 3, 1, 2, 4), 0.9, dtype=np.float32)
    >>> table = BenchmarkTable(data, np.array([1, 2]), {"kind": "demo", "epochs": [108]})
    >>> float(table.mean("test_accuracy")[0]), table.keyed
    (0.8999999761581421, False)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim._io import atomic_write_npy_dir, read_npy_dir
from nasbench_sim.errors import ConfigError, DataFormatError, MissingDataError, OutOfDomainError
from nasbench_sim.nb101 import EPOCHS
from nasbench_sim.space.cell import INPUT, MAX_VERTICES, OPS, OUTPUT, adjacency_from_bits
from nasbench_sim.space.cellspace import NUM_CELLS

POINTS: tuple[str, ...] = ("halfway", "final")
METRICS: tuple[str, ...] = ("train_accuracy", "validation_accuracy", "test_accuracy", "training_time")
NUM_REPEATS = 3
#: Table kinds and what a printout should call them.
KIND_LABELS = {
    "official": "official NAS-Bench-101 data (real)",
    "partial": "real partial NB101 table (repeat-0 test accuracy real, other fields modelled)",
    "surrogate": "SURROGATE of NB101 (modelled, not real data)",
    "repeat0": "REAL repeat-0 world (signal = score = real repeat-0 test accuracy; no validation split, nothing modelled)",
    "modelled-repeat": "MODELLED single-repeat world (signal = score = one modelled repeat's test accuracy)",
}
#: Kinds of the one-repeat worlds in which the searcher's signal is its score (`bench.repeat0_world`).
SINGLE_REPEAT_KINDS = ("repeat0", "modelled-repeat")
TABLE_FORMAT_VERSION = 1
KEYED_FORMAT_VERSION = 2
_FILE_CELL_ARRAYS = ("hashes", "num_vertices", "bits", "labels", "repeat_counts", "epoch_order")


@dataclass(frozen=True, eq=False)
class FileCells:
    """The cells of a keyed table: row `i` of the table is cell `i` here, in file order.

    Attributes:
        hashes: (N,) S32 official module hashes, in the file's order of first appearance.
        num_vertices: (N,) uint8 vertices of the stored adjacency.
        bits: (N,) int32 stored edges, edge i->j at bit j*(j-1)/2 + i.
        labels: (N, 5) int8 stored interior ops as indices into `OPS`, -1 past the last vertex.
        repeat_counts: (N, budget) uint8 repeats recorded per budget; repeats
            0 .. count-1 of that budget hold data.
        epoch_order: (N, budget) int8 budget indices in the order the file first
            lists them for the cell, -1 padded.
    """

    hashes: np.ndarray
    num_vertices: np.ndarray
    bits: np.ndarray
    labels: np.ndarray
    repeat_counts: np.ndarray
    epoch_order: np.ndarray
    _rows: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        n = self.hashes.shape[0]
        budgets = self.repeat_counts.shape[1] if self.repeat_counts.ndim == 2 else -1
        if (
            self.hashes.shape != (n,)
            or self.num_vertices.shape != (n,)
            or self.bits.shape != (n,)
            or self.labels.shape != (n, MAX_VERTICES - 2)
            or self.repeat_counts.shape != (n, budgets)
            or self.epoch_order.shape != (n, budgets)
        ):
            raise DataFormatError("keyed table: cell arrays have inconsistent shapes")

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    def rows(self) -> dict[str, int]:
        """hash -> row, in file order (built once, on first use)."""
        if not self._rows and len(self):
            self._rows.update((h.decode(), i) for i, h in enumerate(self.hashes.tolist()))
        return self._rows

    def stored_spec(self, row: int) -> tuple[np.ndarray, list[str]]:
        """The file's adjacency of a row as a new writable (V, V) int8 array, and its op names."""
        n = int(self.num_vertices[row])
        ops = [INPUT, *(OPS[k] for k in self.labels[row, : n - 2].tolist()), OUTPUT]
        return adjacency_from_bits(n, int(self.bits[row])), ops

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in _FILE_CELL_ARRAYS}


def coverage(repeat_counts: np.ndarray, epochs: tuple[int, ...]) -> dict[str, Any]:
    """Which cells, budgets and repeats a keyed table has data for (JSON-able).

    Args:
        repeat_counts: (cell, budget) repeats recorded per cell and budget.
        epochs: the budget axis.

    Returns:
        `cells` (rows), `space_cells` (423,624), `budgets`, `records`,
        `by_budget` (per budget: cells with data and a histogram "repeats ->
        cells"), and `complete`: every cell of the space with all 3 repeats at
        every budget of the table.
    """
    counts = np.asarray(repeat_counts)
    by_budget = {}
    for b, epoch in enumerate(epochs):
        histogram = np.bincount(counts[:, b], minlength=NUM_REPEATS + 1)
        by_budget[str(epoch)] = {
            "cells": int((counts[:, b] > 0).sum()),
            "repeats": {str(k): int(c) for k, c in enumerate(histogram.tolist()) if k > 0 and c > 0},
        }
    return {
        "cells": int(counts.shape[0]),
        "space_cells": NUM_CELLS,
        "budgets": list(epochs),
        "records": int(counts.sum()),
        "by_budget": by_budget,
        "complete": bool(counts.shape[0] == NUM_CELLS and (counts == NUM_REPEATS).all()),
    }


@dataclass(frozen=True, eq=False)
class BenchmarkTable:
    """Benchmark table; see the module docstring for the axes and layouts.

    Args:
        data: float (cell, repeat, budget, point, metric).
        trainable_parameters: int64 (cell,).
        meta: JSON-able metadata: at least `kind` and `epochs` (the budget axis).
        folder: where the table was loaded from (None if built in memory).
        cells: the file's cells for a keyed table; None for a dense one.
    """

    data: np.ndarray
    trainable_parameters: np.ndarray
    meta: dict[str, Any]
    folder: str | None = None
    cells: FileCells | None = None
    _means: dict[tuple[str, int, str], np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not np.issubdtype(self.data.dtype, np.floating):
            raise DataFormatError(f"table data must be floating point, got {self.data.dtype}")
        if self.data.ndim != 5 or self.data.shape[3] != len(POINTS) or self.data.shape[4] != len(METRICS):
            raise DataFormatError(f"table data must be (cell, repeat, budget, 2, 4), got {self.data.shape}")
        if self.data.shape[2] != len(self.epochs):
            raise DataFormatError(f"table has {self.data.shape[2]} budgets but meta lists epochs {self.epochs}")
        if self.trainable_parameters.shape != (self.data.shape[0],):
            raise DataFormatError("trainable_parameters must have one entry per cell")
        if self.cells is not None and (
            len(self.cells) != self.data.shape[0] or self.cells.repeat_counts.shape[1] != self.data.shape[2]
        ):
            raise DataFormatError("keyed table: cell arrays do not match the data's cells and budgets")

    # --- description -------------------------------------------------------
    @property
    def epochs(self) -> tuple[int, ...]:
        return tuple(int(e) for e in self.meta["epochs"])

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", "unknown"))

    @property
    def keyed(self) -> bool:
        """True for a file-backed table whose rows are the file's cells (see `cells`)."""
        return self.cells is not None

    @property
    def coverage(self) -> dict[str, Any]:
        """See `coverage()`; a dense table covers every cell (with modelled values where it says so)."""
        if self.cells is None:
            return {"cells": self.num_cells, "space_cells": NUM_CELLS, "budgets": list(self.epochs), "complete": True}
        if "coverage" not in self.meta:
            self.meta["coverage"] = coverage(self.cells.repeat_counts, self.epochs)
        return self.meta["coverage"]

    @property
    def complete(self) -> bool:
        """Whether every cell of the space has data (only complete tables are picked by default)."""
        return bool(self.coverage["complete"])

    @property
    def label(self) -> str:
        """Human-readable description of what the table is (used in every printout)."""
        label = KIND_LABELS.get(self.kind, self.kind)
        if not self.complete:
            label += f", covering {self.num_cells:,} of {NUM_CELLS:,} cells"
        return label

    @property
    def num_cells(self) -> int:
        """Rows of the table (every cell of the space for a dense table, the file's cells for a keyed one)."""
        return int(self.data.shape[0])

    @property
    def num_repeats(self) -> int:
        return int(self.data.shape[1])

    def missing_cell(self, module_hash: Any) -> MissingDataError:
        """The error (a `KeyError`) for a cell this table has no data for, naming what the table covers."""
        if self.cells is None:
            return MissingDataError(f"{module_hash!r} is not the hash of a NAS-Bench-101 cell", module_hash)
        return MissingDataError(
            f"no data for cell {module_hash!r}: {self.meta.get('source', 'this table')} covers "
            f"{self.num_cells:,} of {NUM_CELLS:,} cells",
            module_hash,
        )

    def budget_index(self, epochs: int) -> int:
        """Position of `epochs` on the budget axis.

        Raises:
            OutOfDomainError: not an NB101 budget, or absent from this table.
        """
        if epochs not in EPOCHS:
            raise OutOfDomainError(f"invalid number of epochs {epochs!r}, must be one of {list(EPOCHS)}")
        if epochs not in self.epochs:
            raise OutOfDomainError(
                f"this table ({self.kind}) has no data for {epochs} epochs; it has {list(self.epochs)}"
            )
        return self.epochs.index(epochs)

    def mean(self, metric: str, epochs: int = 108, point: str = "final") -> np.ndarray:
        """(cell,) float64 mean over repeats per table row (NaN-aware; NaN without data), cached."""
        key = (metric, epochs, point)
        if key not in self._means:
            if metric not in METRICS:
                raise ConfigError(f"unknown metric {metric!r} (choices: {', '.join(METRICS)})")
            if point not in POINTS:
                raise ConfigError(f"unknown point {point!r} (choices: {', '.join(POINTS)})")
            values = np.asarray(
                self.data[:, :, self.budget_index(epochs), POINTS.index(point), METRICS.index(metric)], dtype=np.float64
            )
            with np.errstate(invalid="ignore"):
                count = np.sum(~np.isnan(values), axis=1)
                total = np.nansum(values, axis=1)
                self._means[key] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        return self._means[key]

    # --- storage -----------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write atomically as a folder of `.npy` + `meta.json`."""
        meta = {k: v for k, v in self.meta.items() if k != "arrays"}
        meta["format_version"] = TABLE_FORMAT_VERSION if self.cells is None else KEYED_FORMAT_VERSION
        meta["axes"] = {
            "data": f"{self.data.dtype} (cell, repeat, budget, point, metric)",
            "budget": list(self.epochs),
            "point": list(POINTS),
            "metric": list(METRICS),
            "cell": "ascending official module hash" if self.cells is None else "the file's cells, in file order",
        }
        arrays = {"data": self.data, "trainable_parameters": self.trainable_parameters}
        if self.cells is not None:
            meta["coverage"] = self.coverage
            arrays.update(self.cells.arrays())
        self.check_values()  # a table with impossible values is never written
        atomic_write_npy_dir(path, arrays, meta)

    def check_values(self) -> None:
        """Refuse values no NB101 table can hold: accuracies outside [0, 1], negative times or parameters.

        NaN marks a missing value and is allowed. Raises `DataFormatError` naming the field and
        the first bad value.
        """
        for index, metric in enumerate(METRICS):
            values = np.asarray(self.data[..., index])
            low, high = (0.0, np.inf) if metric == "training_time" else (0.0, 1.0)
            with np.errstate(invalid="ignore"):
                bad = ~np.isnan(values) & ~(np.isfinite(values) & (values >= low) & (values <= high))
            if bad.any():
                first = values[bad].flat[0]
                where = self.folder or self.meta.get("source", "the table")
                raise DataFormatError(
                    f"{where}: {metric} holds {first!r} at {int(bad.sum()):,} place(s), outside [{low:g}, {high:g}]"
                )
        if (np.asarray(self.trainable_parameters) < 0).any():
            raise DataFormatError("trainable_parameters holds negative counts")

    @classmethod
    def load(cls, path: str | os.PathLike) -> BenchmarkTable:
        """Open a saved table (memory-mapped: opening is instant).

        Every array is checked against its recorded shape, dtype and checksum (`read_npy_dir`);
        a table written before checksums existed has its values range-checked instead.

        Raises:
            DataFormatError: not a table folder, or damaged (naming the file and how to rebuild it).
        """
        arrays, meta = read_npy_dir(path)
        version = meta.get("format_version")
        if version not in (TABLE_FORMAT_VERSION, KEYED_FORMAT_VERSION) or "data" not in arrays:
            raise DataFormatError(
                f"{path}: not a nasbench_sim benchmark table (formats {TABLE_FORMAT_VERSION} and {KEYED_FORMAT_VERSION})"
            )
        cells = None
        if version == KEYED_FORMAT_VERSION:
            missing = [name for name in _FILE_CELL_ARRAYS if name not in arrays]
            if missing:
                raise DataFormatError(f"{path}: keyed table lacks {', '.join(missing)}")
            cells = FileCells(**{name: arrays[name] for name in _FILE_CELL_ARRAYS})
        table = cls(arrays["data"], arrays["trainable_parameters"], meta, folder=str(Path(path).resolve()), cells=cells)
        if not meta.get("checks"):  # written before checksums were recorded: check the values instead
            table.check_values()
        return table

    def describe(self) -> str:
        """Multi-line summary: source, what is real and what is modelled, coverage and quality figures."""
        lines = [f"table: {self.label}", f"source: {self.meta.get('source', 'unknown')}"]
        if "source_sha256" in self.meta and "source_size" in self.meta:
            lines.append(f"file content: {self.meta['source_size']:,} bytes, sha256 {self.meta['source_sha256']}")
        cover = self.coverage
        if self.cells is None:
            lines.append(
                f"cells: {self.num_cells:,}  repeats: {self.num_repeats}  budgets (epochs): {list(self.epochs)}"
            )
        else:
            lines.append(
                f"coverage: {cover['cells']:,} of {cover['space_cells']:,} cells, budgets (epochs) {cover['budgets']}, "
                f"{cover['records']:,} records"
                + ("" if cover["complete"] else "  (incomplete: used only when named, never as the default)")
            )
            for epoch in cover["budgets"]:
                part = cover["by_budget"][str(epoch)]
                repeats = sorted(part["repeats"].items(), reverse=True)
                detail = (
                    f"{repeats[0][0]} repeats each"
                    if len(repeats) == 1
                    else ", ".join(f"{_cells(count)} with {k} repeats" for k, count in repeats)
                )
                lines.append(f"  {epoch} epochs: {_cells(part['cells'])}, {detail}")
        if self.meta.get("real_fields"):
            lines.append("real: " + ", ".join(self.meta["real_fields"]))
        if self.meta.get("modelled_fields"):
            lines.append("modelled: " + ", ".join(self.meta["modelled_fields"]))
        fidelity = self.meta.get("surrogate_fidelity")
        if fidelity:
            top = next((k for k in fidelity if k.startswith("top") and k.endswith("_overlap")), None)
            lines.append(
                f"surrogate fidelity on {fidelity.get('num_cells', 0):,} held-out cells: "
                f"Spearman {fidelity['spearman']:.3f}, Kendall tau {fidelity['kendall_tau']:.3f}"
                + (f", {top[3:-8]}-best overlap {fidelity[top]:.3f}" if top else "")
                + (f", R^2 {fidelity['r2']:.3f}" if "r2" in fidelity else "")
            )
        if "noise_checks" in self.meta:
            checks = self.meta["noise_checks"]
            lines.append("noise-model checks:")
            items = checks.items() if isinstance(checks, dict) else [("result", checks)]
            lines += [f"  {name}: {json.dumps(value, sort_keys=True, default=str)}" for name, value in items]
        if "path" in self.meta:
            lines.append(f"path: {self.meta['path']}")
        return "\n".join(lines)


def _cells(count: int) -> str:
    return f"{count:,} cell" + ("" if count == 1 else "s")
