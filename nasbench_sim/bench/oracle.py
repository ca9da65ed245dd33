"""The budgeted tabular oracle, with the official API's query semantics.

`query` samples one training repeat like `nasbench.api.NASBench.query` and
adds the training time and epochs to the budget counters; a budget the cell
has no data for raises `MissingDataError` (a `KeyError`), a drawn repeat the
table lacks `MissingRepeatError` (an `IndexError`). Analysis lookups
(`metrics`, `fixed_statistics`, `computed_statistics`, `mean`, `optimum`,
`hashes`) are free: they never touch the counters and never sample.

Cells are found by `Cell` (`query`, `metrics`), by space row (`query_row`,
`metrics_of_row`, `mean`, ...) or by official hash (`query_hash`,
`fixed_statistics`, `computed_statistics`); `compat.api.NASBench` is the
official API's surface over these.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench import Oracle, open_table
    >>> from nasbench_sim.space import random_cell
    >>> oracle = Oracle(open_table("surrogate", progress=False), np.random.default_rng(0))
    >>> result = oracle.query(random_cell(np.random.default_rng(1)), epochs=12)
    >>> 0 < result["validation_accuracy"] < 1, oracle.get_budget_counters()[1]
    (True, 12)
    >>> module_hash = next(oracle.hash_iterator())
    >>> sorted(oracle.computed_statistics(module_hash)), len(oracle.computed_statistics(module_hash)[108])
    ([4, 12, 36, 108], 3)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, KeysView, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from nasbench_sim._checks import as_generator, checked_rows
from nasbench_sim.bench.table import METRICS, POINTS, BenchmarkTable
from nasbench_sim.bench.table_rows import TableRows
from nasbench_sim.errors import ConfigError, MissingDataError, MissingRepeatError, OutOfDomainError
from nasbench_sim.space.cell import Cell, checked_cells
from nasbench_sim.space.cellspace import CellSpace

_RNG_BUFFER = 4096
#: Metrics of a repeat in the official API's order.
OFFICIAL_METRICS = ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")
#: (key, point, metric column) of each value of a repeat in `computed_statistics`, in the official order.
_REPEAT_KEYS = tuple(
    (f"{point}_{metric}", p, METRICS.index(metric)) for p, point in enumerate(POINTS) for metric in OFFICIAL_METRICS
)


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
    The repeats of a cell at a budget are repeats 0 .. count-1 of the table.

    Args:
        table: the benchmark table.
        rng: random stream that picks the training repeat of each query
            (a seed or None is turned into a Generator here).
        space: the cell space (default: this machine's cached one; for a keyed
            table it is loaded only when a row-based method needs it, so
            `query(cell)` on a small file works without enumerating the space).
        num_repeats: repeats each query draws from, uniformly (default: the
            table's; the official API draws from its configured 3, whatever the
            file holds).
        draw_repeat: if given, draws the repeat of each `query`, `query_hash` and
            `query_row` in place of `rng` (once per query, spent also when the
            query then fails); `compat.api` passes the official API's global
            `random.randint(0, 2)`. `query_batch` still draws from `rng`.

    Raises:
        ValueError: a dense table whose row count is not the space's.
    """

    def __init__(
        self,
        table: BenchmarkTable,
        rng: np.random.Generator | int | None = None,
        *,
        space: CellSpace | None = None,
        num_repeats: int | None = None,
        draw_repeat: Callable[[], int] | None = None,
    ) -> None:
        if not isinstance(table, BenchmarkTable):
            raise ConfigError(f"an Oracle needs a BenchmarkTable (see open_table), got {type(table).__name__}")
        self.table = table
        self._rows = TableRows(table, space)
        if not table.keyed and len(self.space) != table.num_cells:
            raise ValueError(f"table has {table.num_cells} cells, space has {len(self.space)}")
        self.rng = as_generator(rng)
        self.num_repeats = table.num_repeats if num_repeats is None else int(num_repeats)
        self._data = np.asarray(table.data)  # plain ndarray view: faster scalar indexing than np.memmap
        self._repeats: list[int] = []
        self._draw_repeat = draw_repeat
        self.training_time_spent = 0.0
        self.total_epochs_spent = 0
        self._optimum: Optimum | None = None
        self._means: dict[tuple[str, int, str], np.ndarray] = {}

    @property
    def space(self) -> CellSpace:
        """The cell space (loaded on first use)."""
        return self._rows.space

    # --- budgeted queries ---------------------------------------------------
    def _next_repeat(self) -> int:
        if self._draw_repeat is not None:
            return self._draw_repeat()
        if not self._repeats:
            self._repeats = self.rng.integers(0, self.num_repeats, size=_RNG_BUFFER).tolist()[::-1]
        return self._repeats.pop()

    def _sample(self, table_row: int, epochs: int, stop_halfway: bool) -> dict[str, float]:
        """One drawn repeat of a table row, added to the counters (the draw is spent also when it fails)."""
        budget = self.table.budget_index(epochs)
        repeat = self._next_repeat()
        values = [float("nan")] * len(METRICS)
        if repeat < self.table.num_repeats:
            values = self._data[table_row, repeat, budget, 0 if stop_halfway else 1].tolist()
        train, val, test, time = values
        if test != test:  # NaN: the table has no such repeat (a NaN time alone: a world without a clock)
            present = self._rows.repeat_count(table_row, budget)
            module_hash = self._rows.hash_of(table_row)
            if present == 0:
                raise MissingDataError(f"cell {module_hash} has no data for {epochs} epochs in this table", epochs)
            if stop_halfway and repeat < self.table.num_repeats:
                raise MissingDataError(
                    f"this table has no halfway values (cell {module_hash}, {epochs} epochs)", epochs
                )
            raise MissingRepeatError(
                f"repeat {repeat} of cell {module_hash} at {epochs} epochs is not in the table "
                f"(it has {present} of {self.num_repeats})"
            )
        self.training_time_spent += time
        self.total_epochs_spent += epochs // 2 if stop_halfway else epochs
        return {"train_accuracy": train, "validation_accuracy": val, "test_accuracy": test, "training_time": time}

    def _query_table_row(self, table_row: int, epochs: int, stop_halfway: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._sample(table_row, epochs, stop_halfway)
        result["module_adjacency"], result["module_operations"] = self._rows.stored_spec(table_row)
        result["trainable_parameters"] = int(self.table.trainable_parameters[table_row])
        return result

    def query_row(self, row: int, epochs: int = 108, stop_halfway: bool = False) -> dict[str, float]:
        """Budgeted query of a space row: one sampled repeat's accuracies and training time.

        Returns:
            dict with `train_accuracy`, `validation_accuracy`, `test_accuracy` in
            [0, 1] and `training_time` in seconds.

        Raises:
            OutOfDomainError: invalid budget or row.
            MissingDataError: the table has no value here (a `KeyError`).
            MissingRepeatError: the drawn repeat is not in the table (an `IndexError`).
        """
        self._check_row(row)
        return self._sample(self._rows.of_space_row(row), epochs, stop_halfway)

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

    def query(self, cell: Cell, epochs: int = 108, stop_halfway: bool = False) -> dict[str, Any]:
        """Budgeted query like the official API (same keys; accuracies in [0, 1], time in seconds).

        Returns:
            dict with the four metrics of `query_row`, `module_adjacency` (a new
            writable (V, V) int8 array), `module_operations` and `trainable_parameters`.

        Raises:
            OutOfDomainError: not a `Cell`, or an invalid budget.
            MissingDataError: the table lacks the cell or the budget (a `KeyError`).
            MissingRepeatError: the drawn repeat is not in the table (an `IndexError`).
        """
        if not isinstance(cell, Cell):
            raise OutOfDomainError(f"query needs a Cell, got {type(cell).__name__}: build one with Cell(matrix, ops)")
        return self._query_table_row(self._rows.of_cell(cell), epochs, stop_halfway)

    def query_hash(self, module_hash: str, epochs: int = 108, stop_halfway: bool = False) -> dict[str, Any]:
        """`query` of the cell with an official hash (a `KeyError` if the table lacks it)."""
        return self._query_table_row(self._rows.of_hash(module_hash), epochs, stop_halfway)

    def query_batch(
        self, cells: Sequence[Cell] | np.ndarray, epochs: int = 108, stop_halfway: bool = False
    ) -> dict[str, np.ndarray]:
        """Budgeted queries of many cells (or space rows) at once; one sampled repeat each.

        Returns:
            dict of (B,) arrays: `row` (space rows) and the four metrics.
        """
        is_rows = isinstance(cells, np.ndarray)
        rows = checked_rows(cells, len(self.space)) if is_rows else self.space.indices(checked_cells(cells))
        table_rows = rows
        if self.table.keyed:
            table_rows = self._rows.space_to_table()[rows]
            if (table_rows < 0).any():
                raise self.table.missing_cell(self.space.hashes[rows[np.argmax(table_rows < 0)]].decode())
        budget = self.table.budget_index(epochs)
        repeats = self.rng.integers(0, self.num_repeats, size=rows.size)
        if (repeats >= self.table.num_repeats).any():
            raise MissingRepeatError(f"a drawn repeat is not in the table (it has {self.table.num_repeats})")
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

    def _fixed(self, table_row: int) -> dict[str, Any]:
        matrix, ops = self._rows.stored_spec(table_row)
        return {
            "module_adjacency": matrix,
            "module_operations": ops,
            "trainable_parameters": int(self.table.trainable_parameters[table_row]),
        }

    def _computed(self, table_row: int) -> dict[int, list[dict[str, float]]]:
        block = self._data[table_row].tolist()  # (repeat, budget, point, metric) nested lists of float
        return {
            self.table.epochs[b]: [
                {key: block[r][b][p][m] for key, p, m in _REPEAT_KEYS}
                for r in range(self._rows.repeat_count(table_row, b))
            ]
            for b in self._rows.budget_order(table_row)
        }

    def fixed_statistics(self, module_hash: str) -> dict[str, Any]:
        """The official fixed statistics of a hash, as new objects (free).

        Returns:
            dict with `module_adjacency` (a new writable (V, V) int8 array),
            `module_operations` (a new list) and `trainable_parameters` (int).

        Raises:
            MissingDataError: the table lacks the hash (a `KeyError`).
            TypeError: the hash is unhashable.
        """
        return self._fixed(self._rows.of_hash(module_hash))

    def computed_statistics(self, module_hash: str) -> dict[int, list[dict[str, float]]]:
        """The official computed statistics of a hash, as new objects (free).

        Returns:
            epochs -> list of per-repeat dicts with the `halfway_*` and `final_*`
            values of `OFFICIAL_METRICS`, in the official key order; budgets in the
            file's order (ascending for a dense table), repeats in the table's.

        Raises:
            MissingDataError: the table lacks the hash (a `KeyError`).
            TypeError: the hash is unhashable.
        """
        return self._computed(self._rows.of_hash(module_hash))

    def metrics(self, cell: Cell) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """All repeats of a cell, free, as the official `get_metrics_from_spec`.

        Returns:
            (fixed, computed): see `fixed_statistics` and `computed_statistics`.
        """
        table_row = self._rows.of_cell(cell)
        return self._fixed(table_row), self._computed(table_row)

    def metrics_of_row(self, row: int) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """`metrics` of a space row."""
        table_row = self._rows.of_space_row(row)
        return self._fixed(table_row), self._computed(table_row)

    def mean(self, metric: str, epochs: int = 108, point: str = "final") -> np.ndarray:
        """(space cell,) mean over repeats, from the table (free; NaN where a keyed table has no data)."""
        means = self.table.mean(metric, epochs, point)
        if not self.table.keyed:
            return means
        key = (metric, epochs, point)
        if key not in self._means:
            table_rows = self._rows.space_to_table()
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
                table_rows = self._rows.space_to_table()
                column = np.where(table_rows >= 0, column[table_rows], np.nan)
            self._means[key] = column
        return self._means[key]

    def hashes(self) -> KeysView[str]:
        """The table's official hashes as `dict_keys` (`len`, `in`; free): every cell ascending,
        or for a keyed table the file's cells in file order."""
        return self._rows.by_hash().keys()

    def hash_iterator(self) -> Iterator[str]:
        """An iterator over `hashes()` (free)."""
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
