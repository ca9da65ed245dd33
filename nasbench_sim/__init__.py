"""nasbench_sim: NAS-Bench-101 without TensorFlow, and a harness to compare NAS algorithms on it.

Example:
    >>> import numpy as np
    >>> from nasbench_sim import Cell, Oracle, open_table
    >>> oracle = Oracle(open_table(), np.random.default_rng(0))  # doctest: +SKIP
    >>> oracle.query(Cell([[0, 1], [0, 0]], ["input", "output"]))["validation_accuracy"]  # doctest: +SKIP
"""

from nasbench_sim.bench import BenchmarkTable, Oracle, open_table
from nasbench_sim.errors import ConfigError, DataFormatError, OutOfDomainError
from nasbench_sim.space import Cell, CellSpace

__version__ = "0.1.0"

__all__ = [
    "BenchmarkTable",
    "Cell",
    "CellSpace",
    "ConfigError",
    "DataFormatError",
    "Oracle",
    "OutOfDomainError",
    "__version__",
    "open_table",
]
