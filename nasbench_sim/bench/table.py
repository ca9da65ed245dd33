"""One dense table format for every NB101 data source.

`data` is float32 with axes (cell, repeat, budget, point, metric):

- cell: row in ascending official-hash order (`CellSpace`), all 423,624;
- repeat: training repeat (3 in NB101);
- budget: the epoch budgets listed in `epochs` (subset of 4, 12, 36, 108);
- point: 0 = halfway through training, 1 = end of training;
- metric: train, validation, test accuracy in [0, 1]; training time in seconds.

NaN where a source has no value. `trainable_parameters` is int64 (cell,).
Saved as a folder of `.npy` files plus `meta.json` naming the source and which
fields are real and which are modelled.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench.table import BenchmarkTable, METRICS
    >>> data = np.full((2, 3, 1, 2, 4), 0.9, dtype=np.float32)
    >>> table = BenchmarkTable(data, np.array([1, 2]), {"kind": "demo", "epochs": [108]})
    >>> float(table.mean("test_accuracy")[0])
    0.8999999761581421
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim._io import atomic_write_npy_dir, read_npy_dir
from nasbench_sim.errors import DataFormatError, OutOfDomainError

EPOCHS: tuple[int, ...] = (4, 12, 36, 108)
POINTS: tuple[str, ...] = ("halfway", "final")
METRICS: tuple[str, ...] = ("train_accuracy", "validation_accuracy", "test_accuracy", "training_time")
NUM_REPEATS = 3
#: Table kinds and what a printout should call them.
KIND_LABELS = {
    "official": "official NAS-Bench-101 data (real)",
    "partial": "real partial NB101 table (repeat-0 test accuracy real, other fields modelled)",
    "surrogate": "SURROGATE of NB101 (modelled, not real data)",
}
TABLE_FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class BenchmarkTable:
    """Dense benchmark table; see the module docstring for the axes.

    Args:
        data: float32 (cell, repeat, budget, point, metric).
        trainable_parameters: int64 (cell,).
        meta: JSON-able metadata: at least `kind` and `epochs` (the budget axis).
        folder: where the table was loaded from (None if built in memory).
    """

    data: np.ndarray
    trainable_parameters: np.ndarray
    meta: dict[str, Any]
    folder: str | None = None
    _means: dict[tuple[str, int, str], np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.data.ndim != 5 or self.data.shape[3] != len(POINTS) or self.data.shape[4] != len(METRICS):
            raise DataFormatError(f"table data must be (cell, repeat, budget, 2, 4), got {self.data.shape}")
        if self.data.shape[2] != len(self.epochs):
            raise DataFormatError(f"table has {self.data.shape[2]} budgets but meta lists epochs {self.epochs}")
        if self.trainable_parameters.shape != (self.data.shape[0],):
            raise DataFormatError("trainable_parameters must have one entry per cell")

    # --- description -------------------------------------------------------
    @property
    def epochs(self) -> tuple[int, ...]:
        return tuple(int(e) for e in self.meta["epochs"])

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", "unknown"))

    @property
    def label(self) -> str:
        """Human-readable description of what the table is (used in every printout)."""
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def num_cells(self) -> int:
        return int(self.data.shape[0])

    @property
    def num_repeats(self) -> int:
        return int(self.data.shape[1])

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
        """(cell,) float64 mean over repeats from the table (NaN-aware), cached."""
        key = (metric, epochs, point)
        if key not in self._means:
            if metric not in METRICS:
                raise ValueError(f"unknown metric {metric!r} (choices: {', '.join(METRICS)})")
            if point not in POINTS:
                raise ValueError(f"unknown point {point!r} (choices: {', '.join(POINTS)})")
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
        meta["format_version"] = TABLE_FORMAT_VERSION
        meta["axes"] = {
            "data": "float32 (cell, repeat, budget, point, metric)",
            "budget": list(self.epochs),
            "point": list(POINTS),
            "metric": list(METRICS),
            "cell": "ascending official module hash",
        }
        atomic_write_npy_dir(path, {"data": self.data, "trainable_parameters": self.trainable_parameters}, meta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> BenchmarkTable:
        """Open a saved table (memory-mapped: opening is instant).

        Raises:
            DataFormatError: not a table folder, or corrupt.
        """
        arrays, meta = read_npy_dir(path)
        if meta.get("format_version") != TABLE_FORMAT_VERSION or "data" not in arrays:
            raise DataFormatError(f"{path}: not a nasbench_sim benchmark table (format {TABLE_FORMAT_VERSION})")
        return cls(arrays["data"], arrays["trainable_parameters"], meta, folder=str(Path(path).resolve()))

    def describe(self) -> str:
        """Multi-line summary: source, what is real and what is modelled, coverage."""
        lines = [
            f"table: {self.label}",
            f"source: {self.meta.get('source', 'unknown')}",
            f"cells: {self.num_cells:,}  repeats: {self.num_repeats}  budgets (epochs): {list(self.epochs)}",
        ]
        if self.meta.get("real_fields"):
            lines.append("real: " + ", ".join(self.meta["real_fields"]))
        if self.meta.get("modelled_fields"):
            lines.append("modelled: " + ", ".join(self.meta["modelled_fields"]))
        if "path" in self.meta:
            lines.append(f"path: {self.meta['path']}")
        return "\n".join(lines)


def empty_data(num_cells: int, epochs: tuple[int, ...], num_repeats: int = NUM_REPEATS) -> np.ndarray:
    """NaN-filled float32 array of the table shape."""
    return np.full((num_cells, num_repeats, len(epochs), len(POINTS), len(METRICS)), np.nan, dtype=np.float32)
