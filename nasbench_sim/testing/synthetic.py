"""A tiny synthetic NB101 table for contract checks: values computed from each cell, no enumeration.

Rows are handed out as cells are first seen, so any valid NB101 cell can be
queried without building the 423,624-cell space. A cell's quality rises with
its 3x3 and 1x1 convolutions and edges (something a searcher can learn), plus a
hash-derived offset; repeats add hash-derived noise, lower budgets subtract a
fixed amount, and training time grows with the cell's size and budget. Budgets
other than NB101's 4, 12, 36 and 108 epochs are refused.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.space import Cell
    >>> from nasbench_sim.testing.synthetic import SyntheticOracle
    >>> oracle = SyntheticOracle(np.random.default_rng(0))
    >>> row = oracle.row(Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"]))
    >>> result = oracle.query_mean_row(row)
    >>> 0.8 < result["validation_accuracy"] < 1.0, result["training_time"] > 0
    (True, True)
"""

from __future__ import annotations

import numpy as np

from nasbench_sim.errors import ContractError
from nasbench_sim.nb101 import EPOCHS
from nasbench_sim.space.cell import Cell

NUM_REPEATS = 3


def _unit(text: str) -> float:
    """A number in [0, 1) fixed by `text` (stable across processes, unlike `hash()`)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


class BudgetError(ContractError):
    """A query at a budget NB101 does not have."""


class SyntheticOracle:
    """The oracle interface the run loop uses (`row`, `query_row`, `query_mean_row`, `hash_of_row`,
    `incumbent_values`), over values computed from each cell.

    Args:
        rng: picks the training repeat of each `query_row`.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.cells: list[Cell] = []
        self._rows: dict[str, int] = {}

    def row(self, cell: Cell) -> int:
        """The row of a cell (new cells get the next row)."""
        if cell.hash not in self._rows:
            self._rows[cell.hash] = len(self.cells)
            self.cells.append(cell)
        return self._rows[cell.hash]

    def hash_of_row(self, row: int) -> str:
        return self.cells[row].hash

    def _accuracies(self, row: int, epochs: int) -> tuple[np.ndarray, np.ndarray]:
        """(validation, test) accuracy of each repeat, (NUM_REPEATS,) each."""
        if epochs not in EPOCHS:
            raise BudgetError(f"asked for {epochs!r} epochs; NB101 budgets are {', '.join(map(str, EPOCHS))}")
        cell = self.cells[row]
        ops = cell.ops
        quality = 0.80 + 0.012 * ops.count("conv3x3-bn-relu") + 0.006 * ops.count("conv1x1-bn-relu")
        quality += 0.004 * cell.num_edges + 0.02 * _unit(cell.hash) - 0.06 * (1 - epochs / 108)
        noise = np.array([_unit(f"{cell.hash}:{r}:{epochs}") - 0.5 for r in range(NUM_REPEATS)])
        validation = np.clip(quality + 0.01 * noise, 0.0, 1.0)
        return validation, np.clip(validation - 0.005, 0.0, 1.0)

    def _time(self, row: int, epochs: int) -> float:
        cell = self.cells[row]
        return (200.0 + 60.0 * cell.num_vertices + 30.0 * cell.num_edges) * epochs / 108

    def query_row(self, row: int, epochs: int = 108) -> dict[str, float]:
        """One randomly drawn repeat."""
        validation, test = self._accuracies(row, epochs)
        r = int(self.rng.integers(NUM_REPEATS))
        return {
            "validation_accuracy": float(validation[r]),
            "test_accuracy": float(test[r]),
            "training_time": self._time(row, epochs),
        }

    def query_mean_row(self, row: int, epochs: int = 108) -> dict[str, float]:
        """The mean over repeats."""
        validation, test = self._accuracies(row, epochs)
        return {
            "validation_accuracy": float(validation.mean()),
            "test_accuracy": float(test.mean()),
            "training_time": self._time(row, epochs),
        }

    def incumbent_values(self, row: int) -> tuple[float, float, float]:
        validation, test = self._accuracies(row, 108)
        return float(validation.mean()), float(test.mean()), float(test[0])
