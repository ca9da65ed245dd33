"""The official `nasbench.api` surface on nasbench_sim's tables, without TensorFlow.

A drop-in for code written against google-research/nasbench (commit b942470):
same classes, methods and attributes (`config` with its 25 keys, `valid_epochs`,
`fixed_statistics`, `computed_statistics`, `history`, assignable budget
counters), same returned types, dict key orders and values, `hash_iterator()`
in file order, and exceptions that the official `except` clauses still catch.
`NASBench` translates these names onto a `bench.Oracle`, which answers every
query and keeps the counters; `tests/compat/test_parity.py`
checks it all against the official API's recorded behaviour (`../shared/parity/`).

`NASBench(path)` reads any official-format file, whatever its name (converted
once per file content; a small file opens in about a second without the cell
space); `NASBench()` (no path, or a table name) uses the best complete table.

Deliberate differences from the official API (the README's "Parity with the
official API" table lists them with the probe entries they show in):

| official behaviour | here | why |
| --- | --- | --- |
| `NASBench()` without a path: `TypeError` | the best available complete table | convenience; a path works as in the official API |
| 0/1 float matrix: another hash, so `query` raises `KeyError` | hashes like the integer matrix; `query` finds the cell | the official hash formats float degrees into its strings |
| spec with 8+ vertices after pruning: `TypeError` from `is_valid` / `query` / `get_metrics_from_spec` | `is_valid` False; `OutOfDomainError('too many vertices ...')` | a bug in the official error message |

Mirrored on purpose, although the package otherwise has no hidden global RNG:
the repeat of each query is drawn as the official API draws it, from the global
`random` module (`NASBench(seed=...)` calls `random.seed(seed)`; each `query`
calls `random.randint(0, config['num_repeats'] - 1)` after the epochs check,
the spec check and the hash lookup, and before the budget lookup), so a script
that interleaves its own `random` calls with queries gets the official repeats.

Compatible rather than different: a cell or budget the table lacks raises
`MissingDataError` (a `KeyError`), a drawn repeat it lacks `MissingRepeatError`
(an `IndexError`), with messages saying what the file covers; `OutOfDomainError`
also derives from `NasbenchSimError`; a missing file raises `NotFoundError`,
named like TensorFlow's (`tf_errors`), which is also a `DataFileNotFoundError`
(a `FileNotFoundError`) and says where the NAS-Bench-101 files are.

Example:
    >>> from nasbench_sim.compat.api import ModelSpec, NASBench
    >>> spec = ModelSpec(matrix=[[0, 1, 1], [0, 0, 1], [0, 0, 0]], ops=["input", "conv3x3-bn-relu", "output"])
    >>> nb = NASBench("surrogate", seed=0)  # or an official-format file  # doctest: +ELLIPSIS
    nasbench_sim: ...
    >>> list(nb.query(spec))[:4]
    ['module_adjacency', 'module_operations', 'trainable_parameters', 'training_time']
    >>> nb.get_budget_counters()[1], len(nb.get_metrics_from_spec(spec)[1][108])
    (108, 3)
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import KeysView, Mapping
from pathlib import Path
from typing import Any

from nasbench_sim.bench.oracle import OFFICIAL_METRICS, Oracle
from nasbench_sim.bench.sources import TABLE_NAMES, open_table
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.compat.config import official_config
from nasbench_sim.compat.model_spec import ModelSpec, check_spec
from nasbench_sim.compat.statistics import ComputedStat, FixedStat, StatisticsView
from nasbench_sim.compat.tf_errors import NotFoundError
from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.cell import Cell

__all__ = ["ModelSpec", "NASBench", "OutOfDomainError"]

#: Keys of a `query` result, in the official order.
_RESULT_KEYS = ("module_adjacency", "module_operations", "trainable_parameters", *OFFICIAL_METRICS)


def _counter(name: str, doc: str) -> property:
    """An attribute of the official API that is the oracle's budget counter `name`."""
    return property(
        lambda self: getattr(self.oracle, name), lambda self, value: setattr(self.oracle, name, value), doc=doc
    )


class NASBench:
    """Tabular NAS-Bench-101 with the official API.

    Args:
        dataset_file: an official-format file (any name; converted once per
            content and cached), a table folder, a table name ('official',
            'partial', 'surrogate'), a repeat-0 `.npy`, an open `BenchmarkTable`,
            or None for the best available complete table.
        seed: passed to `random.seed` (the global `random` module, which draws the
            repeat of each query, as in the official API; None reseeds it from the system).

    Attributes:
        config: the official configuration dict (25 keys).
        valid_epochs: set of budgets in the table.
        fixed_statistics: hash -> {'module_adjacency', 'module_operations', 'trainable_parameters'} (read-only).
        computed_statistics: hash -> {epochs: [per-repeat dict of halfway_* / final_* values]} (read-only).
        history: {} (the official API never fills it).
        training_time_spent, total_epochs_spent: budget counters (assignable).
        oracle: the `Oracle` answering the queries; `table`: its `BenchmarkTable`.

    Raises:
        NotFoundError: no such file (TensorFlow's name; a `DataFileNotFoundError`, a `FileNotFoundError`).
        DataFormatError: the file is not an official-format file, or corrupt.
    """

    def __init__(self, dataset_file: str | os.PathLike | BenchmarkTable | None = None, seed: int | None = None) -> None:
        self.config = official_config()
        random.seed(seed)
        if isinstance(dataset_file, BenchmarkTable):
            table = dataset_file
        elif dataset_file is None or str(dataset_file) in TABLE_NAMES or Path(dataset_file).is_dir():
            table = open_table(dataset_file)
            print(f"nasbench_sim: using {table.label}")
        else:  # a file, as in the official API
            print("Loading dataset from file... This may take a few minutes...")
            start = time.time()
            if not Path(dataset_file).exists():
                raise NotFoundError.for_path(dataset_file)
            table = open_table(dataset_file)
            print(f"Loaded dataset in {int(time.time() - start)} seconds")
        oracle = self.oracle = Oracle(table, num_repeats=self.config["num_repeats"], draw_repeat=self._draw_repeat)
        self.valid_epochs = set(table.epochs)
        self.fixed_statistics: Mapping[str, FixedStat] = StatisticsView(oracle.hashes, oracle.fixed_statistics)
        self.computed_statistics: Mapping[str, ComputedStat] = StatisticsView(oracle.hashes, oracle.computed_statistics)
        self.history: dict[str, Any] = {}

    @property
    def table(self) -> BenchmarkTable:
        return self.oracle.table

    training_time_spent = _counter("training_time_spent", "Training seconds spent by queries (float, assignable).")
    total_epochs_spent = _counter("total_epochs_spent", "Epochs spent by queries (int, assignable).")

    def query(self, model_spec: ModelSpec, epochs: int = 108, stop_halfway: bool = False) -> dict[str, Any]:
        """Metrics of one randomly drawn training repeat; adds to the budget counters.

        The repeat is `random.randint(0, config['num_repeats'] - 1)` of the global
        `random` module, drawn as in the official API: after the epochs check, the
        spec check and the hash lookup (which raise without drawing), and spent also
        when the cell then lacks the budget or the drawn repeat (counters unchanged).

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
        cell = self._cell(model_spec)
        if cell is None:
            result = self.oracle.query_hash(self._hash_spec(model_spec), epochs, stop_halfway)
        else:
            result = self.oracle.query(cell, epochs, stop_halfway)
        return {key: result[key] for key in _RESULT_KEYS}

    def is_valid(self, model_spec: ModelSpec) -> bool:
        """Whether the spec is in the NB101 space (not whether the table has it)."""
        try:
            self._check_spec(model_spec)
        except OutOfDomainError:
            return False
        return True

    def get_budget_counters(self) -> tuple[float, int]:
        """(training seconds, epochs) spent by queries so far."""
        return self.oracle.get_budget_counters()

    def reset_budget_counters(self) -> None:
        self.oracle.reset_budget_counters()

    def hash_iterator(self) -> KeysView[str]:
        """The table's hashes as `dict_keys` (has `len`), in file order of first appearance."""
        return self.oracle.hashes()

    def get_metrics_from_hash(self, module_hash: str) -> tuple[FixedStat, ComputedStat]:
        """(fixed_stat, computed_stat) of a hash: new objects, free of budget.

        Raises:
            MissingDataError: the hash is not in the table (a `KeyError`).
            TypeError: the hash is unhashable.
        """
        return self.oracle.fixed_statistics(module_hash), self.oracle.computed_statistics(module_hash)

    def get_metrics_from_spec(self, model_spec: ModelSpec) -> tuple[FixedStat, ComputedStat]:
        """(fixed_stat, computed_stat) of a spec, free of budget."""
        cell = self._cell(model_spec)
        if cell is None:
            return self.get_metrics_from_hash(self._hash_spec(model_spec))
        return self.oracle.metrics(cell)

    def evaluate(self, model_spec: ModelSpec, model_dir: str) -> Any:
        raise NotImplementedError("training from scratch is not part of the tabular benchmark")

    def _draw_repeat(self) -> int:
        """The official draw of a query's repeat, from the global `random` module."""
        return random.randint(0, self.config["num_repeats"] - 1)

    def _check_spec(self, model_spec: ModelSpec) -> None:
        """The official validity check (`OutOfDomainError` naming the problem)."""
        check_spec(model_spec, self.config)

    def _hash_spec(self, model_spec: ModelSpec) -> str:
        return model_spec.hash_spec(self.config["available_ops"])

    def _cell(self, model_spec: ModelSpec) -> Cell | None:
        """The checked spec as a `Cell` (found without hashing), or None where only its hash finds it:
        a subclass of `ModelSpec`, or a matrix the official check accepts but a `Cell` does not."""
        self._check_spec(model_spec)
        if type(model_spec) is ModelSpec:
            try:
                return Cell(model_spec.matrix, model_spec.ops)
            except OutOfDomainError:
                pass
        return None
