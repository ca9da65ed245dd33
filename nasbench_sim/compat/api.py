"""The official `nasbench.api` surface on nasbench_sim's tables, without TensorFlow.

Same class and method names, same returned dict keys, same exceptions
(`OutOfDomainError` for invalid cells and budgets). Differences: the
constructor also accepts a table name or folder (or nothing: the best
available table), the repeat is drawn from a seeded numpy Generator rather
than Python's global `random`, and `fixed_statistics` / `computed_statistics`
are computed per cell on demand instead of being two 423,624-entry dicts.

Example:
    >>> from nasbench_sim.compat.api import NASBench, ModelSpec
    >>> nb = NASBench(seed=0)  # doctest: +SKIP
    >>> spec = ModelSpec(matrix=[[0, 1, 1], [0, 0, 1], [0, 0, 0]], ops=["input", "conv3x3-bn-relu", "output"])
    >>> nb.is_valid(spec)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from nasbench_sim.bench.oracle import Oracle
from nasbench_sim.bench.sources import open_table
from nasbench_sim.bench.table import EPOCHS
from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.cell import MAX_EDGES, MAX_VERTICES, OPS, Cell, prune
from nasbench_sim.space.hashing import hash_module

__all__ = ["ModelSpec", "NASBench", "OutOfDomainError"]


class ModelSpec:
    """Model specification as in `nasbench.lib.model_spec.ModelSpec`.

    Attributes:
        original_matrix, original_ops: as given.
        matrix, ops: pruned (None if the graph is disconnected).
        valid_spec: False if pruning found no input-to-output path.
    """

    def __init__(self, matrix: Any, ops: Sequence[str], data_format: str = "channels_last") -> None:
        if not isinstance(matrix, np.ndarray):
            matrix = np.array(matrix)
        shape = np.shape(matrix)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError("matrix must be square")
        if shape[0] != len(ops):
            raise ValueError("length of ops must match matrix dimensions")
        if not np.all(np.triu(matrix, 1) == matrix):
            raise ValueError("matrix must be upper triangular")
        self.original_matrix = copy.deepcopy(matrix)
        self.original_ops = copy.deepcopy(list(ops))
        self.matrix = copy.deepcopy(matrix)
        self.ops = copy.deepcopy(list(ops))
        self.valid_spec = True
        self.data_format = data_format
        kept = prune(np.asarray(matrix).tolist())
        if kept is None:
            self.matrix = None
            self.ops = None
            self.valid_spec = False
        else:
            self.matrix = np.asarray(matrix)[np.ix_(kept, kept)]
            self.ops = [self.ops[i] for i in kept]

    def hash_spec(self, canonical_ops: Sequence[str]) -> str:
        """Official module hash with `canonical_ops` defining the op labels."""
        labeling = [-1] + [list(canonical_ops).index(op) for op in self.ops[1:-1]] + [-2]
        return hash_module(self.matrix, labeling)

    def visualize(self) -> Any:
        raise NotImplementedError("visualize needs graphviz; not provided by nasbench_sim")


class NASBench:
    """Tabular NAS-Bench-101 with the official API.

    Args:
        dataset_file: an official `.tfrecord` (converted once and cached), a
            table folder, a table name ('official', 'partial', 'surrogate'),
            a repeat-0 `.npy`, or None for the best available table.
        seed: seed of the repeat sampling.
    """

    def __init__(self, dataset_file: str | os.PathLike | None = None, seed: int | None = None) -> None:
        self.table = open_table(dataset_file)
        self._oracle = Oracle(self.table, np.random.default_rng(seed))
        self.config = {
            "module_vertices": MAX_VERTICES,
            "max_edges": MAX_EDGES,
            "num_repeats": self.table.num_repeats,
            "available_ops": list(OPS),
        }
        self.valid_epochs = set(self.table.epochs)
        print(f"nasbench_sim: using {self.table.label}")

    @property
    def training_time_spent(self) -> float:
        return self._oracle.training_time_spent

    @property
    def total_epochs_spent(self) -> int:
        return self._oracle.total_epochs_spent

    def _cell(self, model_spec: ModelSpec) -> Cell:
        if not model_spec.valid_spec:
            raise OutOfDomainError("invalid spec, provided graph is disconnected.")
        return Cell(model_spec.original_matrix, model_spec.original_ops)

    def query(self, model_spec: ModelSpec, epochs: int = 108, stop_halfway: bool = False) -> dict[str, Any]:
        """Metrics of one sampled repeat; adds to the budget counters.

        Raises:
            OutOfDomainError: invalid spec or epochs.
        """
        if epochs not in self.valid_epochs:
            raise OutOfDomainError(f"invalid number of epochs, must be one of {sorted(self.valid_epochs)}")
        return self._oracle.query(self._cell(model_spec), epochs, stop_halfway)

    def is_valid(self, model_spec: ModelSpec) -> bool:
        try:
            self._cell(model_spec)
        except OutOfDomainError:
            return False
        return True

    def get_budget_counters(self) -> tuple[float, int]:
        return self._oracle.get_budget_counters()

    def reset_budget_counters(self) -> None:
        self._oracle.reset_budget_counters()

    def hash_iterator(self) -> Iterator[str]:
        return self._oracle.hash_iterator()

    def get_metrics_from_hash(self, module_hash: str) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """(fixed_stat, computed_stat) of a hash, free of budget."""
        return self._oracle.metrics_of_row(self._oracle.space.index_of_hash(module_hash))

    def get_metrics_from_spec(self, model_spec: ModelSpec) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """(fixed_stat, computed_stat) of a spec, free of budget."""
        return self._oracle.metrics(self._cell(model_spec))

    def evaluate(self, model_spec: ModelSpec, model_dir: str) -> Any:
        raise NotImplementedError("training from scratch is not part of the tabular benchmark")


VALID_EPOCHS = EPOCHS
