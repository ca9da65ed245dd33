"""Benchmark tables (official files, real partial data, embedded surrogate) and the oracle.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench import Oracle, open_table
    >>> oracle = Oracle(open_table("surrogate", progress=False), np.random.default_rng(0))
    >>> 0.93 < oracle.optimum.best_test_accuracy < 0.95
    True
"""

from nasbench_sim.bench.oracle import Optimum, Oracle
from nasbench_sim.bench.sources import open_table
from nasbench_sim.bench.table import METRICS, POINTS, BenchmarkTable

__all__ = ["METRICS", "POINTS", "BenchmarkTable", "Optimum", "Oracle", "open_table"]
