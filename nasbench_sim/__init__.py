"""nasbench_sim: NAS-Bench-101 without TensorFlow, and a harness to compare NAS algorithms on it.

One function per job: `compare` runs searchers over seeds and returns a tidy
frame (and writes resumable Parquet files), `plot` writes the figures and
summary of an experiment folder, `summary` returns its table with the paired tests.
Your own algorithm: any ask/tell class, `model_based(model, ...)` for your own
predictor and acquisition, `register` for this process, `check_searcher` for the contract.

Example:
    >>> import numpy as np
    >>> from nasbench_sim import Cell, Oracle, open_table
    >>> oracle = Oracle(open_table("surrogate", progress=False), np.random.default_rng(0))
    >>> result = oracle.query(Cell([[0, 1], [0, 0]], ["input", "output"]))
    >>> sorted(result)[:3]
    ['module_adjacency', 'module_operations', 'test_accuracy']
"""

from __future__ import annotations

import importlib
from typing import Any

from nasbench_sim._version import __version__
from nasbench_sim.bench import BenchmarkTable, Oracle, open_table
from nasbench_sim.errors import ConfigError, DataFormatError, OutOfDomainError
from nasbench_sim.space import Cell, CellSpace, mutate, random_cell

#: Public functions loaded on first use (they import torch, pandas and matplotlib).
_LAZY = {
    "compare": ("nasbench_sim.harness.experiment", "compare"),
    "compare_workers": ("nasbench_sim.harness.scaling", "compare_workers"),
    "Budget": ("nasbench_sim.harness.run", "Budget"),
    "Workers": ("nasbench_sim.harness.simulator", "Workers"),
    "plot": ("nasbench_sim.harness.plots", "plot_experiment"),
    "summary": ("nasbench_sim.harness.plots", "summary"),
    "AlgorithmSpec": ("nasbench_sim.search.registry", "AlgorithmSpec"),
    "register": ("nasbench_sim.search.registry", "register"),
    "unregister": ("nasbench_sim.search.registry", "unregister"),
    "model_based": ("nasbench_sim.search.predictor", "model_based"),
    "check_searcher": ("nasbench_sim.testing", "check_searcher"),
    "check_surrogate": ("nasbench_sim.testing", "check_surrogate"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'nasbench_sim' has no attribute {name!r}")


__all__ = [
    "AlgorithmSpec",
    "BenchmarkTable",
    "Budget",
    "Cell",
    "CellSpace",
    "ConfigError",
    "DataFormatError",
    "Oracle",
    "OutOfDomainError",
    "Workers",
    "__version__",
    "check_searcher",
    "check_surrogate",
    "compare",
    "compare_workers",
    "model_based",
    "mutate",
    "open_table",
    "plot",
    "random_cell",
    "register",
    "summary",
    "unregister",
]
