"""The official `nasbench.api` surface on nasbench_sim's tables, without TensorFlow.

A drop-in for code written against google-research/nasbench (commit b942470):
same classes, methods, attributes (`config` with all 25 keys, `valid_epochs`,
`fixed_statistics`, `computed_statistics`, `history`, assignable
`training_time_spent` / `total_epochs_spent`), same returned types, dict key
orders and values, `hash_iterator()` in file order, and exceptions that the
official `except` clauses still catch. `tests/compat/test_parity.py` checks all
of this against the official API's recorded behaviour (`../shared/parity/`).

Data: `NASBench(path)` reads any official-format file, whatever its name (it
is converted once per file content into a keyed table; a small file needs no
cell-space enumeration and opens in about a second). `NASBench()` (no path,
or a table name) uses the best available complete table.

Deliberate differences from the official API (the README's "Parity with the
official API" table lists them with the probe entries they show in; the parity
test accepts exactly those):

| official behaviour | here | why |
| --- | --- | --- |
| `NASBench()` without a path: `TypeError` | the best available complete table | convenience; a path works as in the official API |
| repeat drawn with the global `random` module, seeded by `NASBench(seed=...)` | drawn from a `numpy.random.Generator` seeded by `seed`; the global `random` state is never touched | no hidden global RNG |
| 0/1 float matrix: another hash, so `query` raises `KeyError` | hashes like the integer matrix; `query` finds the cell | the official hash formats float degrees into its strings |
| spec with 8+ vertices after pruning: `TypeError` from `is_valid` / `query` / `get_metrics_from_spec` | `is_valid` False; `OutOfDomainError('too many vertices ...')` | a bug in the official error message |

Compatible rather than different: a cell or budget the table lacks raises
`MissingDataError` (a `KeyError`), a drawn repeat it lacks `MissingRepeatError`
(an `IndexError`), with messages saying what the file covers; `OutOfDomainError`
also derives from `NasbenchSimError`; a missing file raises
`DataFileNotFoundError` (a `FileNotFoundError`; the official API raises
TensorFlow's `NotFoundError`).

Example:
    >>> from nasbench_sim.compat.api import ModelSpec
    >>> spec = ModelSpec(matrix=[[0, 1, 1], [0, 0, 1], [0, 0, 0]], ops=["input", "conv3x3-bn-relu", "output"])
    >>> spec.valid_spec, spec.hash_spec(["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"])
    (True, 'd32d0b26d534203b48d866facd98cc3e')
    >>> from nasbench_sim.compat.api import NASBench
    >>> nb = NASBench("surrogate", seed=0)  # or an official-format file  # doctest: +ELLIPSIS
    nasbench_sim: ...
    >>> sorted(nb.query(spec))[:2]
    ['module_adjacency', 'module_operations']
"""

from __future__ import annotations

import copy
import hashlib
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.bench.sources import TABLE_NAMES, open_table
from nasbench_sim.bench.table import METRICS, BenchmarkTable
from nasbench_sim.errors import MissingDataError, MissingRepeatError, OutOfDomainError
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.hashing import hash_module

__all__ = ["ModelSpec", "NASBench", "OutOfDomainError"]

_RNG_BUFFER = 4096
#: Result keys of `query`, in the official order.
_QUERY_KEYS = ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")
#: Metric keys of a repeat in `computed_statistics`, in the official order, and their `METRICS` column.
_REPEAT_KEYS = tuple(
    (f"{point}_{metric}", p, METRICS.index(metric))
    for p, point in enumerate(("halfway", "final"))
    for metric in _QUERY_KEYS
)


def official_config() -> dict[str, Any]:
    """A new copy of the official `config.build_config()` with its default flags (25 keys, official order)."""
    return {
        "train_data_files": [],
        "valid_data_file": "",
        "test_data_file": "",
        "sample_data_file": "",
        "data_format": "channels_last",
        "num_labels": 10,
        "module_vertices": 7,
        "max_edges": 9,
        "available_ops": ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"],
        "stem_filter_size": 128,
        "num_stacks": 3,
        "num_modules_per_stack": 3,
        "batch_size": 256,
        "train_epochs": 108,
        "train_seconds": 14400.0,
        "learning_rate": 0.1,
        "lr_decay_method": "COSINE_BY_STEP",
        "momentum": 0.9,
        "weight_decay": 0.0001,
        "max_attempts": 5,
        "intermediate_evaluations": ["0.5"],
        "num_repeats": 3,
        "use_tpu": True,
        "tpu_iterations_per_loop": 100,
        "tpu_num_shards": 2,
    }


class ModelSpec:
    """Model specification, as `nasbench.lib.model_spec.ModelSpec` (same validation, pruning and hash).

    Args:
        matrix: (V, V) upper-triangular adjacency (nested lists or ndarray).
        ops: V op names ('input' first, 'output' last).
        data_format: 'channels_last' or 'channels_first' (kept, unused).

    Attributes:
        original_matrix, original_ops: deep copies of the arguments.
        matrix, ops: pruned to the vertices on an input-to-output path (None if there is none).
        valid_spec: False if input and output are disconnected.

    Raises:
        ValueError: the matrix is not square, does not match the ops, or is not upper triangular.
    """

    def __init__(self, matrix: Any, ops: Sequence[Any], data_format: str = "channels_last") -> None:
        if not isinstance(matrix, np.ndarray):
            matrix = np.array(matrix)
        shape = np.shape(matrix)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError("matrix must be square")
        if shape[0] != len(ops):
            raise ValueError("length of ops must match matrix dimensions")
        if not _is_upper_triangular(matrix):
            raise ValueError("matrix must be upper triangular")
        # Deep copies: later changes to the caller's objects are not seen by the spec.
        self.original_matrix = copy.deepcopy(matrix)
        self.original_ops = copy.deepcopy(ops)
        self.matrix = copy.deepcopy(matrix)
        self.ops = copy.deepcopy(ops)
        self.valid_spec = True
        self._prune()
        self.data_format = data_format

    def _prune(self) -> None:
        """Drop vertices not on an input-to-output path (in place, like the official code)."""
        num_vertices = np.shape(self.original_matrix)[0]
        from_input = {0}
        frontier = [0]
        while frontier:
            top = frontier.pop()
            for v in range(top + 1, num_vertices):
                if self.original_matrix[top, v] and v not in from_input:
                    from_input.add(v)
                    frontier.append(v)
        to_output = {num_vertices - 1}
        frontier = [num_vertices - 1]
        while frontier:
            top = frontier.pop()
            for v in range(0, top):
                if self.original_matrix[v, top] and v not in to_output:
                    to_output.add(v)
                    frontier.append(v)
        extraneous = set(range(num_vertices)).difference(from_input & to_output)
        if len(extraneous) > num_vertices - 2:  # fewer than 2 vertices left: input and output disconnected
            self.matrix = None
            self.ops = None
            self.valid_spec = False
            return
        self.matrix = np.delete(self.matrix, list(extraneous), axis=0)
        self.matrix = np.delete(self.matrix, list(extraneous), axis=1)
        for index in sorted(extraneous, reverse=True):
            del self.ops[index]  # a tuple raises TypeError, an ndarray ValueError, as in the official code

    def hash_spec(self, canonical_ops: Sequence[str]) -> str:
        """Official module hash of the pruned spec, op labels by position in `canonical_ops`.

        `ops[0]` and `ops[-1]` are not looked at (labelled input/output).
        A 0/1 float matrix hashes like the integer one (the official API gives
        it another hash; a deliberate difference).

        Raises:
            ValueError: an interior op is not in `canonical_ops`.
            TypeError: the spec is invalid (`matrix` / `ops` are None).
        """
        labeling = [-1] + [canonical_ops.index(op) for op in self.ops[1:-1]] + [-2]
        matrix = np.asarray(self.matrix)
        if matrix.dtype.kind == "f":
            if not np.isin(matrix, (0, 1)).all():  # not an adjacency matrix: the official float hash, no cell's
                return _float_hash(matrix, labeling)
            matrix = matrix.astype(np.int64)
        return hash_module(matrix, labeling)

    def visualize(self) -> Any:
        raise NotImplementedError("visualize needs graphviz; not provided by nasbench_sim")


def _is_upper_triangular(matrix: np.ndarray) -> bool:
    """True if the matrix is 0 on and below the diagonal."""
    for src in range(np.shape(matrix)[0]):
        for dst in range(0, src + 1):
            if matrix[src, dst] != 0:
                return False
    return True


def _float_hash(matrix: np.ndarray, labeling: list[int]) -> str:
    """The official `graph_util.hash_module` on a float matrix (degrees are formatted as floats)."""
    n = np.shape(matrix)[0]
    in_edges = np.sum(matrix, axis=0).tolist()
    out_edges = np.sum(matrix, axis=1).tolist()
    hashes = [hashlib.md5(str(h).encode("utf-8")).hexdigest() for h in zip(out_edges, in_edges, labeling, strict=True)]
    for _ in range(n):
        hashes = [
            hashlib.md5(
                (
                    "".join(sorted(hashes[w] for w in range(n) if matrix[w, v]))
                    + "|"
                    + "".join(sorted(hashes[w] for w in range(n) if matrix[v, w]))
                    + "|"
                    + hashes[v]
                ).encode("utf-8")
            ).hexdigest()
            for v in range(n)
        ]
    return hashlib.md5(str(sorted(hashes)).encode("utf-8")).hexdigest()


class _Statistics(Mapping):
    """Read-only hash -> statistics view with the official layout, built per access (never stored)."""

    def __init__(self, nasbench: NASBench, build: Any) -> None:
        self._nasbench = nasbench
        self._build = build

    def __getitem__(self, module_hash: str) -> Any:
        return self._build(self._nasbench._row_of_hash(module_hash))

    def __iter__(self) -> Iterator[str]:
        return iter(self._nasbench._rows())

    def __len__(self) -> int:
        return len(self._nasbench._rows())

    def __contains__(self, module_hash: object) -> bool:
        return module_hash in self._nasbench._rows()


class NASBench:
    """Tabular NAS-Bench-101 with the official API.

    Args:
        dataset_file: an official-format file (any name; converted once per
            content and cached), a table folder, a table name ('official',
            'partial', 'surrogate'), a repeat-0 `.npy`, or None for the best
            available complete table.
        seed: seed of the `numpy.random.Generator` that draws the repeat of each query.

    Attributes:
        config: the official configuration dict (25 keys).
        valid_epochs: set of budgets in the table.
        fixed_statistics: hash -> {'module_adjacency', 'module_operations', 'trainable_parameters'} (read-only).
        computed_statistics: hash -> {epochs: [per-repeat dict of halfway_* / final_* values]} (read-only).
        history: {} (the official API never fills it).
        training_time_spent, total_epochs_spent: budget counters (plain, assignable).
        table: the `BenchmarkTable` answering the queries.

    Raises:
        DataFileNotFoundError: no such file (a `FileNotFoundError`).
        DataFormatError: the file is not an official-format file, or corrupt.
    """

    def __init__(self, dataset_file: str | os.PathLike | None = None, seed: int | None = None) -> None:
        self.config = official_config()
        self._rng = np.random.default_rng(seed)
        self._draws: list[int] = []
        if dataset_file is None or str(dataset_file) in TABLE_NAMES or Path(dataset_file).is_dir():
            self.table = open_table(dataset_file)
            print(f"nasbench_sim: using {self.table.label}")
        else:  # a file, as in the official API
            print("Loading dataset from file... This may take a few minutes...")
            start = time.time()
            self.table = open_table(dataset_file)
            print(f"Loaded dataset in {int(time.time() - start)} seconds")
        self.valid_epochs = set(self.table.epochs)
        self.fixed_statistics: Mapping[str, dict[str, Any]] = _Statistics(self, self._fixed)
        self.computed_statistics: Mapping[str, dict[int, list[dict[str, float]]]] = _Statistics(self, self._computed)
        self.history: dict[str, Any] = {}
        self.training_time_spent = 0.0
        self.total_epochs_spent = 0
        self._data = np.asarray(self.table.data)
        self._space: Any = None
        self._row_index: dict[str, int] | None = None
        self._row_of_key: dict[tuple[int, int, tuple[int, ...]], int] = {}

    # --- the official methods --------------------------------------------------
    def query(self, model_spec: ModelSpec, epochs: int = 108, stop_halfway: bool = False) -> dict[str, Any]:
        """Metrics of one randomly drawn training repeat; adds to the budget counters.

        Returns:
            dict with keys module_adjacency (new writable int8 array), module_operations,
            trainable_parameters, training_time (s), train_accuracy, validation_accuracy,
            test_accuracy (in [0, 1]), in this order.

        Raises:
            OutOfDomainError: invalid spec, or `epochs` not in `valid_epochs`.
            MissingDataError: the table has no data for the cell or the budget (a `KeyError`).
            MissingRepeatError: the drawn repeat is not in the table (an `IndexError`).
        """
        if epochs not in self.valid_epochs:
            raise OutOfDomainError(f"invalid number of epochs, must be one of {self.valid_epochs}")
        row = self._row_of_spec(model_spec)
        repeat = self._draw()
        budget = self._budget(row, epochs)
        present = self._repeat_count(row, budget)
        if repeat >= present:
            raise MissingRepeatError(
                f"repeat {repeat} of cell {self._hash_of_row(row)} at {epochs} epochs is not in the table "
                f"(it has {present} of {self.config['num_repeats']})"
            )
        values = self._data[row, repeat, budget, 0 if stop_halfway else 1].tolist()
        data = self._fixed(row)
        for key in _QUERY_KEYS:
            data[key] = values[METRICS.index(key)]
        self.training_time_spent += data["training_time"]
        self.total_epochs_spent += epochs // 2 if stop_halfway else epochs
        return data

    def is_valid(self, model_spec: ModelSpec) -> bool:
        """Whether the spec is in the NB101 space (not whether the table has it)."""
        try:
            self._check_spec(model_spec)
        except OutOfDomainError:
            return False
        return True

    def get_budget_counters(self) -> tuple[float, int]:
        """(training seconds, epochs) spent by queries so far."""
        return self.training_time_spent, self.total_epochs_spent

    def reset_budget_counters(self) -> None:
        self.training_time_spent = 0.0
        self.total_epochs_spent = 0

    def hash_iterator(self) -> Any:
        """The table's hashes as `dict_keys` (has `len`), in file order of first appearance."""
        return self._rows().keys()

    def get_metrics_from_hash(self, module_hash: str) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """(fixed_stat, computed_stat) of a hash: new objects, free of budget.

        Raises:
            MissingDataError: the hash is not in the table (a `KeyError`).
            TypeError: the hash is unhashable.
        """
        row = self._row_of_hash(module_hash)
        return self._fixed(row), self._computed(row)

    def get_metrics_from_spec(self, model_spec: ModelSpec) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """(fixed_stat, computed_stat) of a spec, free of budget."""
        row = self._row_of_spec(model_spec)
        return self._fixed(row), self._computed(row)

    def evaluate(self, model_spec: ModelSpec, model_dir: str) -> Any:
        raise NotImplementedError("training from scratch is not part of the tabular benchmark")

    def _check_spec(self, model_spec: ModelSpec) -> None:
        """The official validity check (`OutOfDomainError` naming the problem)."""
        if not model_spec.valid_spec:
            raise OutOfDomainError("invalid spec, provided graph is disconnected.")
        num_vertices = len(model_spec.ops)
        num_edges = np.sum(model_spec.matrix)
        if num_vertices > self.config["module_vertices"]:
            raise OutOfDomainError(
                f"too many vertices, got {num_vertices} (max vertices = {self.config['module_vertices']})"
            )
        if num_edges > self.config["max_edges"]:
            raise OutOfDomainError(f"too many edges, got {int(num_edges)} (max edges = {self.config['max_edges']})")
        if model_spec.ops[0] != "input":
            raise OutOfDomainError("first operation should be 'input'")
        if model_spec.ops[-1] != "output":
            raise OutOfDomainError("last operation should be 'output'")
        for op in model_spec.ops[1:-1]:
            if op not in self.config["available_ops"]:
                raise OutOfDomainError(f"unsupported op {op} (available ops = {self.config['available_ops']})")

    def _hash_spec(self, model_spec: ModelSpec) -> str:
        return model_spec.hash_spec(self.config["available_ops"])

    # --- rows of the table --------------------------------------------------------
    def _rows(self) -> dict[str, int]:
        """hash -> table row, in the table's order (file order for a converted file)."""
        if self.table.cells is not None:
            return self.table.cells.rows()
        if self._row_index is None:
            self._row_index = {h: i for i, h in enumerate(self._cell_space().hash_list())}
        return self._row_index

    def _cell_space(self) -> Any:
        """The cell space of a dense table (its rows are the space's rows)."""
        if self._space is None:
            from nasbench_sim.space.enumeration import CellSpace

            self._space = CellSpace.load_or_build()
        return self._space

    def _row_of_hash(self, module_hash: str) -> int:
        try:
            return self._rows()[module_hash]
        except KeyError:
            raise self.table.missing_cell(module_hash) from None

    def _row_of_spec(self, model_spec: ModelSpec) -> int:
        """Table row of a spec: the official check and hash, without hashing when a faster index exists."""
        self._check_spec(model_spec)
        if type(model_spec) is ModelSpec:
            try:
                cell = Cell(model_spec.matrix, model_spec.ops)
            except OutOfDomainError:  # valid for the official check but not a 0/1 matrix: hash it
                cell = None
            if cell is not None:
                if self.table.cells is None:
                    return self._cell_space().index(cell)
                key = (cell.num_vertices, cell.bits, cell.labels)
                row = self._row_of_key.get(key)
                if row is None:
                    row = self._row_of_key[key] = self._rows().get(cell.hash, -1)
                if row < 0:
                    raise self.table.missing_cell(cell.hash)
                return row
        return self._row_of_hash(self._hash_spec(model_spec))

    def _hash_of_row(self, row: int) -> str:
        if self.table.cells is not None:
            return self.table.cells.hashes[row].decode()
        return self._cell_space().hashes[row].decode()

    def _budget(self, row: int, epochs: int) -> int:
        """Budget axis position of `epochs` for a row that has data there."""
        table: BenchmarkTable = self.table
        if epochs not in table.epochs or self._repeat_count(row, table.epochs.index(epochs)) == 0:
            raise MissingDataError(
                f"cell {self._hash_of_row(row)} has no data for {epochs} epochs in this table", epochs
            )
        return table.epochs.index(epochs)

    def _repeat_count(self, row: int, budget: int) -> int:
        if self.table.cells is not None:
            return int(self.table.cells.repeat_counts[row, budget])
        return int(np.sum(~np.isnan(self._data[row, :, budget, 1, METRICS.index("test_accuracy")])))

    def _budget_order(self, row: int) -> list[int]:
        """Budget axis positions with data for a row, in the file's order for that cell."""
        if self.table.cells is not None:
            return [b for b in self.table.cells.epoch_order[row].tolist() if b >= 0]
        return [b for b in range(len(self.table.epochs)) if self._repeat_count(row, b)]

    def _draw(self) -> int:
        """Repeat index in [0, num_repeats), from the seeded generator (drawn in blocks)."""
        if not self._draws:
            self._draws = self._rng.integers(0, self.config["num_repeats"], size=_RNG_BUFFER).tolist()[::-1]
        return self._draws.pop()

    def _fixed(self, row: int) -> dict[str, Any]:
        """Official fixed statistics of a row, as new objects."""
        if self.table.cells is not None:
            matrix, ops = self.table.cells.stored_spec(row)
        else:
            stored, names = self._cell_space().stored_spec(row)
            matrix, ops = np.array(stored, dtype=np.int8), list(names)
        return {
            "module_adjacency": matrix,
            "module_operations": ops,
            "trainable_parameters": int(self.table.trainable_parameters[row]),
        }

    def _computed(self, row: int) -> dict[int, list[dict[str, float]]]:
        """Official computed statistics of a row: epochs (file order) -> repeats (file order), new objects."""
        block = self._data[row].tolist()  # (repeat, budget, point, metric) nested lists of float
        out: dict[int, list[dict[str, float]]] = {}
        for b in self._budget_order(row):
            out[self.table.epochs[b]] = [
                {key: block[r][b][p][m] for key, p, m in _REPEAT_KEYS} for r in range(self._repeat_count(row, b))
            ]
        return out
