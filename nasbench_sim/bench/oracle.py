"""The budgeted tabular oracle, with the official API's query semantics.

`query` samples one training repeat like `nasbench.api.NASBench.query` and
adds the training time and epochs to the budget counters. Analysis lookups
(`metrics`, `mean`, `optimum`, `hash_iterator`) are free: they never touch
the counters and never sample.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench import Oracle, open_table
    >>> from nasbench_sim.space import random_cell
    >>> oracle = Oracle(open_table(), np.random.default_rng(0))  # doctest: +SKIP
    >>> result = oracle.query(random_cell(np.random.default_rng(1)))  # doctest: +SKIP
    >>> round(result["validation_accuracy"], 3), oracle.get_budget_counters()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_sim.bench.table import EPOCHS, METRICS, POINTS, BenchmarkTable
from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.enumeration import CellSpace

_RNG_BUFFER = 4096


@dataclass(frozen=True)
class Optimum:
    """The best cell of a table by mean final validation accuracy (108 epochs).

    Attributes:
        row: its row; hash: its official hash;
        validation_accuracy, test_accuracy: its means over repeats, in [0, 1];
        best_test_accuracy: the highest mean test accuracy of any cell (the
            optimum that test regret is measured against).
    """

    row: int
    hash: str
    validation_accuracy: float
    test_accuracy: float
    best_test_accuracy: float


class Oracle:
    """Answers 'how good is this cell' from a `BenchmarkTable`.

    Args:
        table: the benchmark table.
        rng: random stream that picks the training repeat of each query
            (a seed or None is turned into a Generator here).
        space: the cell space (default: this machine's cached one).
    """

    def __init__(
        self,
        table: BenchmarkTable,
        rng: np.random.Generator | int | None = None,
        *,
        space: CellSpace | None = None,
    ) -> None:
        self.table = table
        self.space = space if space is not None else CellSpace.load_or_build()
        if len(self.space) != table.num_cells:
            raise ValueError(f"table has {table.num_cells} cells, space has {len(self.space)}")
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self._data = np.asarray(table.data)  # plain ndarray view: faster scalar indexing than np.memmap
        self._repeats: list[int] = []
        self.training_time_spent = 0.0
        self.total_epochs_spent = 0
        self._optimum: Optimum | None = None

    # --- budgeted queries ---------------------------------------------------
    def _next_repeat(self) -> int:
        if not self._repeats:
            self._repeats = self.rng.integers(0, self.table.num_repeats, size=_RNG_BUFFER).tolist()[::-1]
        return self._repeats.pop()

    def query_row(self, row: int, epochs: int = 108, stop_halfway: bool = False) -> dict[str, float]:
        """Budgeted query of a row: one sampled repeat's accuracies and training time.

        Returns:
            dict with `train_accuracy`, `validation_accuracy`, `test_accuracy` in
            [0, 1] and `training_time` in seconds.

        Raises:
            OutOfDomainError: invalid budget, or the table has no value here.
        """
        budget = self.table.budget_index(epochs)
        self._check_row(row)
        train, val, test, time = self._data[row, self._next_repeat(), budget, 0 if stop_halfway else 1].tolist()
        if time != time or test != test:  # NaN: no data for this cell/budget
            raise OutOfDomainError(f"the table has no data for cell row {row} at {epochs} epochs")
        self.training_time_spent += time
        self.total_epochs_spent += epochs // 2 if stop_halfway else epochs
        return {"train_accuracy": train, "validation_accuracy": val, "test_accuracy": test, "training_time": time}

    def query_mean_row(self, row: int, epochs: int = 108) -> dict[str, float]:
        """Budgeted query of a row returning the mean over repeats of every metric (naszilla's mode).

        The same on every query of the row; costs one query and the mean training time.

        Raises:
            OutOfDomainError: invalid budget or row, or the table has no value here.
        """
        self.table.budget_index(epochs)
        self._check_row(row)
        result = {metric: float(self.table.mean(metric, epochs)[row]) for metric in METRICS}
        if result["test_accuracy"] != result["test_accuracy"]:  # NaN: no data for this cell/budget
            raise OutOfDomainError(f"the table has no data for cell row {row} at {epochs} epochs")
        self.training_time_spent += result["training_time"]
        self.total_epochs_spent += epochs
        return result

    def _check_row(self, row: int) -> None:
        if isinstance(row, bool) or not 0 <= row < self.table.num_cells:
            raise OutOfDomainError(f"row {row!r} is not a cell row of this table (0 to {self.table.num_cells - 1})")

    def query(self, cell: Cell, epochs: int = 108, stop_halfway: bool = False) -> dict[str, Any]:
        """Budgeted query like the official API (same keys; accuracies in [0, 1], time in seconds)."""
        row = self.space.index(cell)
        result = self.query_row(row, epochs, stop_halfway)
        result["module_adjacency"], result["module_operations"] = self.space.stored_spec(row)
        result["trainable_parameters"] = int(self.table.trainable_parameters[row])
        return result

    def query_batch(
        self, cells: Sequence[Cell] | np.ndarray, epochs: int = 108, stop_halfway: bool = False
    ) -> dict[str, np.ndarray]:
        """Budgeted queries of many cells (or rows) at once; one sampled repeat each.

        Returns:
            dict of (B,) arrays: `row` and the four metrics.
        """
        if isinstance(cells, np.ndarray):
            rows = cells.astype(np.int64)
        else:
            rows = self.space.indices(cells)
        budget = self.table.budget_index(epochs)
        repeats = self.rng.integers(0, self.table.num_repeats, size=rows.size)
        values = np.asarray(self._data[rows, repeats, budget, 0 if stop_halfway else 1], dtype=np.float64)
        if np.isnan(values[:, 2:]).any():
            raise OutOfDomainError(f"the table has no data for some of these cells at {epochs} epochs")
        self.training_time_spent += float(values[:, 3].sum())
        self.total_epochs_spent += rows.size * (epochs // 2 if stop_halfway else epochs)
        out = {"row": rows}
        out.update({metric: values[:, k] for k, metric in enumerate(METRICS)})
        return out

    def get_budget_counters(self) -> tuple[float, int]:
        """(training seconds, epochs) spent by queries so far."""
        return self.training_time_spent, self.total_epochs_spent

    def reset_budget_counters(self) -> None:
        self.training_time_spent = 0.0
        self.total_epochs_spent = 0

    # --- free analysis ------------------------------------------------------
    def row(self, cell: Cell) -> int:
        """Row of a cell (free)."""
        return self.space.index(cell)

    def metrics(self, cell: Cell) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """All repeats of a cell, free, as the official `get_metrics_from_spec`.

        Returns:
            (fixed, computed): fixed has `module_adjacency`, `module_operations`,
            `trainable_parameters`; computed maps epochs to a list of per-repeat
            dicts with `halfway_*` and `final_*` keys.
        """
        return self.metrics_of_row(self.space.index(cell))

    def metrics_of_row(self, row: int) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        matrix, ops = self.space.stored_spec(row)
        fixed = {
            "module_adjacency": matrix,
            "module_operations": ops,
            "trainable_parameters": int(self.table.trainable_parameters[row]),
        }
        computed: dict[int, list[dict[str, float]]] = {}
        block = np.asarray(self._data[row], dtype=np.float64)  # (repeat, budget, point, metric)
        for b, epochs in enumerate(self.table.epochs):
            repeats = []
            for r in range(self.table.num_repeats):
                if np.isnan(block[r, b]).all():
                    continue
                repeats.append(
                    {
                        f"{point}_{metric}": float(block[r, b, p, m])
                        for p, point in enumerate(POINTS)
                        for m, metric in enumerate(METRICS)
                    }
                )
            if repeats:
                computed[epochs] = repeats
        return fixed, computed

    def mean(self, metric: str, epochs: int = 108, point: str = "final") -> np.ndarray:
        """(cell,) mean over repeats, from the table (free)."""
        return self.table.mean(metric, epochs, point)

    def hash_iterator(self) -> Iterator[str]:
        """All official hashes, ascending (free)."""
        return iter(self.space.hash_list())

    @property
    def optimum(self) -> Optimum:
        """Best cell by mean final validation accuracy at 108 epochs, and the best mean test accuracy."""
        if self._optimum is None:
            val = self.mean("validation_accuracy")
            test = self.mean("test_accuracy")
            row = int(np.nanargmax(val))
            self._optimum = Optimum(
                row=row,
                hash=self.space.hashes[row].decode(),
                validation_accuracy=float(val[row]),
                test_accuracy=float(test[row]),
                best_test_accuracy=float(np.nanmax(test)),
            )
        return self._optimum


VALID_EPOCHS = frozenset(EPOCHS)
