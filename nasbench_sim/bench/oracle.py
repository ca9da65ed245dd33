"""The budgeted tabular oracle, with the official API's query semantics.

`query` samples one training repeat like `nasbench.api.NASBench.query` and
adds the training time and epochs to the budget counters. Analysis lookups
(`metrics`, `mean`, `optimum`, `hash_iterator`) are free: they never touch
the counters and never sample.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench import Oracle, open_table
    >>> from nasbench_sim.space import random_cell
    >>> oracle = Oracle(open_table("surrogate", progress=False), np.random.default_rng(0))
    >>> result = oracle.query(random_cell(np.random.default_rng(1)), epochs=12)
    >>> 0 < result["validation_accuracy"] < 1, oracle.get_budget_counters()[1]
    (True, 12)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from nasbench_sim.bench.table import METRICS, POINTS, BenchmarkTable
from nasbench_sim.errors import DataFormatError, MissingDataError, OutOfDomainError
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

    Rows (`query_row`, `query_batch` with an array, `metrics_of_row`, `mean`,
    `optimum.row`) are rows of the cell space, ascending official hash, for
    every layout: a keyed table (a converted official-format file) is mapped
    onto the space's rows, and a cell that the file lacks raises
    `MissingDataError` (a `KeyError`) saying how many cells the file covers.

    Args:
        table: the benchmark table.
        rng: random stream that picks the training repeat of each query
            (a seed or None is turned into a Generator here).
        space: the cell space (default: this machine's cached one; for a keyed
            table it is loaded only when a row-based method needs it, so
            `query(cell)` on a small file works without enumerating the space).

    Raises:
        ValueError: a dense table whose row count is not the space's.
    """

    def __init__(
        self,
        table: BenchmarkTable,
        rng: np.random.Generator | int | None = None,
        *,
        space: CellSpace | None = None,
    ) -> None:
        self.table = table
        self._space = space
        if not table.keyed and len(self.space) != table.num_cells:
            raise ValueError(f"table has {table.num_cells} cells, space has {len(self.space)}")
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self._data = np.asarray(table.data)  # plain ndarray view: faster scalar indexing than np.memmap
        self._repeats: list[int] = []
        self.training_time_spent = 0.0
        self.total_epochs_spent = 0
        self._optimum: Optimum | None = None
        self._table_rows: np.ndarray | None = None  # keyed table: space row -> table row (-1: no data)
        self._means: dict[tuple[str, int, str], np.ndarray] = {}

    @property
    def space(self) -> CellSpace:
        """The cell space (loaded on first use)."""
        if self._space is None:
            self._space = CellSpace.load_or_build()
        return self._space

    def _space_to_table(self) -> np.ndarray:
        """Keyed table: (len(space),) table row of each space row, -1 where the file has no data (built once)."""
        if self._table_rows is None:
            self._table_rows = table_rows_in_space(self.table, self.space)
        return self._table_rows

    def _table_row(self, row: int) -> int:
        """Table row of a space row."""
        if not self.table.keyed:
            return row
        table_row = int(self._space_to_table()[row])
        if table_row < 0:
            raise self.table.missing_cell(self.space.hashes[row].decode())
        return table_row

    # --- budgeted queries ---------------------------------------------------
    def _next_repeat(self) -> int:
        if not self._repeats:
            self._repeats = self.rng.integers(0, self.table.num_repeats, size=_RNG_BUFFER).tolist()[::-1]
        return self._repeats.pop()

    def query_row(self, row: int, epochs: int = 108, stop_halfway: bool = False) -> dict[str, float]:
        """Budgeted query of a space row: one sampled repeat's accuracies and training time.

        Returns:
            dict with `train_accuracy`, `validation_accuracy`, `test_accuracy` in
            [0, 1] and `training_time` in seconds.

        Raises:
            OutOfDomainError: invalid budget.
            MissingDataError: the table has no value here (a `KeyError`).
        """
        self._check_row(row)
        return self._query_table_row(self._table_row(row), epochs, stop_halfway)

    def _query_table_row(self, table_row: int, epochs: int, stop_halfway: bool) -> dict[str, float]:
        budget = self.table.budget_index(epochs)
        train, val, test, time = self._data[table_row, self._next_repeat(), budget, 0 if stop_halfway else 1].tolist()
        if time != time or test != test:  # NaN: no data for this cell/budget/repeat
            raise MissingDataError(
                f"the table has no data for cell {self._hash_of_table_row(table_row)} at {epochs} epochs", epochs
            )
        self.training_time_spent += time
        self.total_epochs_spent += epochs // 2 if stop_halfway else epochs
        return {"train_accuracy": train, "validation_accuracy": val, "test_accuracy": test, "training_time": time}

    def query_mean_row(self, row: int, epochs: int = 108) -> dict[str, float]:
        """Budgeted query of a space row returning the mean over repeats of every metric (naszilla's mode).

        The same on every query of the row; costs one query and the mean training time.

        Raises:
            OutOfDomainError: invalid budget or row.
            MissingDataError: the table has no value here (a `KeyError`).
        """
        self.table.budget_index(epochs)
        self._check_row(row)
        result = {metric: float(self.mean(metric, epochs)[row]) for metric in METRICS}
        if result["test_accuracy"] != result["test_accuracy"]:  # NaN: no data for this cell/budget
            raise MissingDataError(
                f"the table has no data for cell {self.space.hashes[row].decode()} at {epochs} epochs", epochs
            )
        self.training_time_spent += result["training_time"]
        self.total_epochs_spent += epochs
        return result

    def _check_row(self, row: int) -> None:
        if isinstance(row, bool) or not 0 <= row < len(self.space):
            raise OutOfDomainError(f"row {row!r} is not a cell row (0 to {len(self.space) - 1})")

    def _hash_of_table_row(self, table_row: int) -> str:
        cells = self.table.cells
        return (cells.hashes if cells is not None else self.space.hashes)[table_row].decode()

    def query(self, cell: Cell, epochs: int = 108, stop_halfway: bool = False) -> dict[str, Any]:
        """Budgeted query like the official API (same keys; accuracies in [0, 1], time in seconds)."""
        if not isinstance(cell, Cell):
            raise OutOfDomainError(f"query needs a Cell, got {type(cell).__name__}: build one with Cell(matrix, ops)")
        cells = self.table.cells
        if cells is None:
            table_row = self.space.index(cell)
        elif self._space is not None:  # the space is at hand: index it instead of hashing
            table_row = self._table_row(self.space.index(cell))
        else:
            table_row = cells.rows().get(cell.hash, -1)
            if table_row < 0:
                raise self.table.missing_cell(cell.hash)
        result = self._query_table_row(table_row, epochs, stop_halfway)
        result["module_adjacency"], result["module_operations"] = self._stored_spec(table_row)
        result["trainable_parameters"] = int(self.table.trainable_parameters[table_row])
        return result

    def _stored_spec(self, table_row: int) -> tuple[np.ndarray, list[str]]:
        """Stored adjacency and ops: the file's own for a keyed table, else the space's (read-only, shared)."""
        if self.table.cells is not None:
            return self.table.cells.stored_spec(table_row)
        return self.space.stored_spec(table_row)

    def query_batch(
        self, cells: Sequence[Cell] | np.ndarray, epochs: int = 108, stop_halfway: bool = False
    ) -> dict[str, np.ndarray]:
        """Budgeted queries of many cells (or space rows) at once; one sampled repeat each.

        Returns:
            dict of (B,) arrays: `row` (space rows) and the four metrics.
        """
        if isinstance(cells, np.ndarray):
            rows = cells.astype(np.int64)
        else:
            rows = self.space.indices(cells)
        table_rows = rows
        if self.table.keyed:
            table_rows = self._space_to_table()[rows]
            if (table_rows < 0).any():
                raise self.table.missing_cell(self.space.hashes[rows[np.argmax(table_rows < 0)]].decode())
        budget = self.table.budget_index(epochs)
        repeats = self.rng.integers(0, self.table.num_repeats, size=rows.size)
        values = np.asarray(self._data[table_rows, repeats, budget, 0 if stop_halfway else 1], dtype=np.float64)
        if np.isnan(values[:, 2:]).any():
            raise MissingDataError(f"the table has no data for some of these cells at {epochs} epochs", epochs)
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
        """Space row of a cell (free)."""
        return self.space.index(cell)

    def hash_of_row(self, row: int) -> str:
        """Official hash of a space row (free)."""
        return self.space.hashes[row].decode()

    def incumbent_values(self, row: int) -> tuple[float, float, float]:
        """(mean validation, mean test, repeat-0 test) accuracy of a space row at 108 epochs (free):
        what a run history records of its incumbent."""
        return (
            float(self.mean("validation_accuracy")[row]),
            float(self.mean("test_accuracy")[row]),
            float(self.repeat_values("test_accuracy", 0)[row]),
        )

    def metrics(self, cell: Cell) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """All repeats of a cell, free, as the official `get_metrics_from_spec`.

        Returns:
            (fixed, computed): fixed has `module_adjacency`, `module_operations`,
            `trainable_parameters`; computed maps epochs to a list of per-repeat
            dicts with `halfway_*` and `final_*` keys.
        """
        return self.metrics_of_row(self.space.index(cell))

    def metrics_of_row(self, row: int) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """`metrics` of a space row."""
        table_row = self._table_row(row)
        matrix, ops = self._stored_spec(table_row)
        fixed = {
            "module_adjacency": matrix,
            "module_operations": ops,
            "trainable_parameters": int(self.table.trainable_parameters[table_row]),
        }
        computed: dict[int, list[dict[str, float]]] = {}
        block = np.asarray(self._data[table_row], dtype=np.float64)  # (repeat, budget, point, metric)
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
        """(space cell,) mean over repeats, from the table (free; NaN where a keyed table has no data)."""
        means = self.table.mean(metric, epochs, point)
        if not self.table.keyed:
            return means
        key = (metric, epochs, point)
        if key not in self._means:
            table_rows = self._space_to_table()
            self._means[key] = np.where(table_rows >= 0, means[table_rows], np.nan)
        return self._means[key]

    def repeat_values(self, metric: str, repeat: int = 0, epochs: int = 108, point: str = "final") -> np.ndarray:
        """(space cell,) one training repeat's value of a metric (free; NaN where there is none), cached."""
        key = (f"repeat{repeat}:{metric}", epochs, point)
        if key not in self._means:
            column = np.asarray(
                self.table.data[:, repeat, self.table.budget_index(epochs), POINTS.index(point), METRICS.index(metric)],
                dtype=np.float64,
            )
            if self.table.keyed:
                table_rows = self._space_to_table()
                column = np.where(table_rows >= 0, column[table_rows], np.nan)
            self._means[key] = column
        return self._means[key]

    def hash_iterator(self) -> Iterator[str]:
        """Official hashes (free): every cell ascending, or for a keyed table the file's cells in file order."""
        if self.table.cells is not None:
            return iter(self.table.cells.rows())
        return iter(self.space.hash_list())

    @property
    def optimum(self) -> Optimum:
        """Best cell by mean final validation accuracy at 108 epochs, and the best mean test accuracy."""
        if self._optimum is None:
            best = table_optimum(self.table, lambda row: self.space.hashes[row].decode())
            if self.table.keyed:
                best = replace(best, row=self.space.index_of_hash(best.hash))
            self._optimum = best
        return self._optimum


def table_optimum(table: BenchmarkTable, hash_of_row: Callable[[int], str] | None = None) -> Optimum:
    """The `Optimum` of a table over the cells it has data for; `row` is a table row.

    Args:
        table: any table.
        hash_of_row: official hash of a table row, needed for a dense table
            (its rows are space rows); a keyed table names its own cells.
    """
    val = table.mean("validation_accuracy")
    test = table.mean("test_accuracy")
    row = int(np.nanargmax(val))
    if table.cells is not None:
        module_hash = table.cells.hashes[row].decode()
    elif hash_of_row is not None:
        module_hash = hash_of_row(row)
    else:
        raise ValueError("a dense table needs hash_of_row to name its optimum")
    return Optimum(
        row=row,
        hash=module_hash,
        validation_accuracy=float(val[row]),
        test_accuracy=float(test[row]),
        best_test_accuracy=float(np.nanmax(test)),
    )


def table_rows_in_space(table: BenchmarkTable, space: CellSpace) -> np.ndarray:
    """(len(space),) int64: the keyed table's row of each space row, -1 where the file has no cell."""
    hashes = np.asarray(table.cells.hashes)
    space_hashes = np.asarray(space.hashes)
    rows = np.full(len(space), -1, dtype=np.int64)
    where = np.searchsorted(space_hashes, hashes)
    found = (where < len(space)) & (space_hashes[np.minimum(where, len(space) - 1)] == hashes)
    if not found.all():
        bad = hashes[np.argmin(found)].decode()
        raise DataFormatError(f"{table.folder}: cell {bad} is not in the NB101 space")
    rows[where] = np.arange(hashes.size)
    return rows
