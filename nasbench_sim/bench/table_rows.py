"""Where a cell's data lies in a `BenchmarkTable`: its table row found by space row, by `Cell` or by hash.

A dense table's rows are the space's rows; a keyed table's rows are the file's
cells in file order, mapped onto the space only when a space row is asked for
(so a small file is read without enumerating the space). A row holds repeats
0 .. count-1 at each budget it has data for.

Example:
    >>> from nasbench_sim.bench import open_table
    >>> from nasbench_sim.bench.table_rows import TableRows
    >>> rows = TableRows(open_table("surrogate", progress=False))
    >>> rows.of_hash(rows.hash_of(5)), rows.repeat_count(5, 3), rows.budget_order(5)
    (5, 3, [0, 1, 2, 3])
"""

from __future__ import annotations

import numpy as np

from nasbench_sim.bench.table import METRICS, POINTS, BenchmarkTable
from nasbench_sim.errors import DataFormatError
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.cellspace import CellSpace

_FINAL, _TEST = POINTS.index("final"), METRICS.index("test_accuracy")


class TableRows:
    """Table rows of the cells of one table, and what each row holds.

    Args:
        table: the benchmark table.
        space: the cell space (default: this machine's cached one, loaded on
            first use; a keyed table needs it only for space rows).
    """

    def __init__(self, table: BenchmarkTable, space: CellSpace | None = None) -> None:
        self.table = table
        self._space = space
        self._data = np.asarray(table.data)
        self._space_rows: np.ndarray | None = None  # keyed table: space row -> table row (-1: no data)
        self._hash_rows: dict[str, int] | None = None  # dense table: hash -> row
        self._rows_of_cells: dict[tuple[int, int, tuple[int, ...]], int] = {}  # keyed, no space: -1 absent

    @property
    def space(self) -> CellSpace:
        """The cell space (loaded on first use)."""
        if self._space is None:
            self._space = CellSpace.load_or_build()
        return self._space

    def space_to_table(self) -> np.ndarray:
        """Keyed table: (len(space),) int64 table row of each space row, -1 where the file lacks it (built once)."""
        if self._space_rows is None:
            self._space_rows = table_rows_in_space(self.table, self.space)
        return self._space_rows

    def of_space_row(self, row: int) -> int:
        """Table row of a space row (`MissingDataError`, a `KeyError`, if the table lacks the cell)."""
        if not self.table.keyed:
            return row
        table_row = int(self.space_to_table()[row])
        if table_row < 0:
            raise self.table.missing_cell(self.space.hashes[row].decode())
        return table_row

    def of_cell(self, cell: Cell) -> int:
        """Table row of a cell: by the space's index when at hand, else by its hash (remembered per cell).

        Raises:
            MissingDataError: the table lacks the cell (a `KeyError`).
        """
        cells = self.table.cells
        if cells is None:
            return self.space.index(cell)
        if self._space is not None:
            return self.of_space_row(self.space.index(cell))
        key = (cell.num_vertices, cell.bits, cell.labels)
        table_row = self._rows_of_cells.get(key)
        if table_row is None:
            table_row = self._rows_of_cells[key] = cells.rows().get(cell.hash, -1)
        if table_row < 0:
            raise self.table.missing_cell(cell.hash)
        return table_row

    def by_hash(self) -> dict[str, int]:
        """hash -> table row, in the table's order (file order for a keyed table; built once)."""
        if self.table.cells is not None:
            return self.table.cells.rows()
        if self._hash_rows is None:
            self._hash_rows = {h: i for i, h in enumerate(self.space.hash_list())}
        return self._hash_rows

    def of_hash(self, module_hash: str) -> int:
        """Table row of an official hash.

        Raises:
            MissingDataError: the table lacks the hash (a `KeyError`).
            TypeError: the hash is unhashable.
        """
        try:
            return self.by_hash()[module_hash]
        except KeyError:
            raise self.table.missing_cell(module_hash) from None

    def hash_of(self, table_row: int) -> str:
        """Official hash of a table row."""
        cells = self.table.cells
        return (cells.hashes if cells is not None else self.space.hashes)[table_row].decode()

    def repeat_count(self, table_row: int, budget: int) -> int:
        """Repeats the table holds for a row at a budget position (those with a final test accuracy)."""
        if self.table.cells is not None:
            return int(self.table.cells.repeat_counts[table_row, budget])
        return int(np.count_nonzero(~np.isnan(self._data[table_row, :, budget, _FINAL, _TEST])))

    def budget_order(self, table_row: int) -> list[int]:
        """Budget positions with data for a row: the file's order for a keyed table, else ascending."""
        if self.table.cells is not None:
            return [b for b in self.table.cells.epoch_order[table_row].tolist() if b >= 0]
        return [b for b in range(len(self.table.epochs)) if self.repeat_count(table_row, b)]

    def stored_spec(self, table_row: int) -> tuple[np.ndarray, list[str]]:
        """Stored (V, V) int8 adjacency, a new writable array, and op names of a row:
        the file's own for a keyed table, else the space's."""
        if self.table.cells is not None:
            return self.table.cells.stored_spec(table_row)
        matrix, ops = self.space.stored_spec(table_row)
        return np.array(matrix), ops


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
