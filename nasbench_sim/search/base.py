"""The searcher protocol and pieces shared by searchers.

A searcher proposes cells with `ask()` and learns the validation accuracy
(in [0, 1]) of each proposed cell through `tell()`. It never sees the table,
the test accuracy or the budget: the run loop (`nasbench_sim.harness.run`)
queries the oracle, enforces the budget and records the full history.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search import RandomSearch, RandomSearchConfig
    >>> searcher = RandomSearch(RandomSearchConfig(), np.random.default_rng(0))
    >>> cell = searcher.ask()
    >>> searcher.tell(cell, 0.91)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from nasbench_sim.space.cell import Cell


@runtime_checkable
class Searcher(Protocol):
    """Ask-and-tell NAS algorithm."""

    def ask(self) -> Cell:
        """The next cell to evaluate."""
        ...

    def tell(self, cell: Cell, validation_accuracy: float) -> None:
        """Report the validation accuracy (in [0, 1]) of a cell returned by `ask`."""
        ...


@dataclass
class Observations:
    """Cells evaluated so far with their validation accuracies, in order."""

    cells: list[Cell]
    values: list[float]

    def __init__(self) -> None:
        self.cells = []
        self.values = []
        self.hashes: set[str] = set()

    def add(self, cell: Cell, value: float) -> None:
        self.cells.append(cell)
        self.values.append(float(value))
        self.hashes.add(cell.hash)

    def __len__(self) -> int:
        return len(self.cells)

    def best(self, k: int) -> list[Cell]:
        """The k cells with the highest validation accuracy (ties: earliest first)."""
        order = np.argsort(-np.asarray(self.values), kind="stable")[:k]
        return [self.cells[i] for i in order]

    def best_value(self) -> float:
        return max(self.values)
