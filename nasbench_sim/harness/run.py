"""One search run: ask, query the oracle, tell, record; regret afterwards.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench import Oracle, open_table
    >>> from nasbench_sim.harness.run import Budget, run_search, add_regret
    >>> from nasbench_sim.search import RandomSearch, RandomSearchConfig
    >>> table = open_table()  # doctest: +SKIP
    >>> oracle = Oracle(table, np.random.default_rng(0))  # doctest: +SKIP
    >>> history = run_search(RandomSearch(RandomSearchConfig(), np.random.default_rng(1)), oracle, Budget(queries=20))  # doctest: +SKIP
    >>> add_regret(history, oracle)["test_regret"].iloc[-1]  # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nasbench_sim.bench.oracle import Oracle
from nasbench_sim.errors import ConfigError
from nasbench_sim.search.base import Searcher

#: Columns of a run history, one row per query.
HISTORY_COLUMNS = {
    "query": "1-based query index",
    "hash": "official hash of the queried cell",
    "row": "row of the cell in the table",
    "validation_accuracy": "validation accuracy of the sampled repeat, in [0, 1] (what the searcher sees)",
    "test_accuracy": "test accuracy of the same sampled repeat, in [0, 1]",
    "training_time": "simulated training seconds of this query",
    "cumulative_time": "simulated training seconds so far",
    "incumbent_row": "row of the best cell so far by observed validation accuracy",
    "incumbent_hash": "hash of that cell",
    "incumbent_mean_validation": "its mean validation accuracy over repeats, from the table",
    "incumbent_mean_test": "its mean test accuracy over repeats, from the table",
    "search_seconds": "wall-clock seconds the searcher spent in ask() + tell() for this query",
}


@dataclass(frozen=True, kw_only=True)
class Budget:
    """Stop after `queries` queries, or once `seconds` of simulated training are spent (exactly one)."""

    queries: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if (self.queries is None) == (self.seconds is None):
            raise ConfigError("give exactly one budget: queries or seconds")
        if (self.queries is not None and self.queries < 1) or (self.seconds is not None and self.seconds <= 0):
            raise ConfigError("the budget must be positive")

    def describe(self) -> str:
        return f"{self.queries} queries" if self.queries is not None else f"{self.seconds:g} simulated seconds"


def run_search(searcher: Searcher, oracle: Oracle, budget: Budget) -> pd.DataFrame:
    """Run a searcher against the oracle until the budget is spent.

    The last query may cross a time budget (as a real training run would).

    Returns:
        History with the columns of `HISTORY_COLUMNS`, one row per query.
    """
    mean_val = oracle.mean("validation_accuracy")
    mean_test = oracle.mean("test_accuracy")
    records = []
    best_val = -np.inf
    incumbent = -1
    spent = 0.0
    while True:
        if budget.queries is not None and len(records) >= budget.queries:
            break
        if budget.seconds is not None and spent >= budget.seconds:
            break
        start = time.perf_counter()
        cell = searcher.ask()
        ask_seconds = time.perf_counter() - start
        row = oracle.space.index(cell)
        result = oracle.query_row(row)
        start = time.perf_counter()
        searcher.tell(cell, result["validation_accuracy"])
        tell_seconds = time.perf_counter() - start
        spent += result["training_time"]
        if result["validation_accuracy"] > best_val:
            best_val = result["validation_accuracy"]
            incumbent = row
        records.append(
            (
                len(records) + 1,
                cell.hash,
                row,
                result["validation_accuracy"],
                result["test_accuracy"],
                result["training_time"],
                spent,
                incumbent,
                oracle.space.hashes[incumbent].decode(),
                float(mean_val[incumbent]),
                float(mean_test[incumbent]),
                ask_seconds + tell_seconds,
            )
        )
    return pd.DataFrame.from_records(records, columns=list(HISTORY_COLUMNS))


def add_regret(history: pd.DataFrame, oracle: Oracle) -> pd.DataFrame:
    """Add `test_regret` (best mean test accuracy of the table minus the incumbent's mean
    test accuracy) and `validation_regret` (likewise for validation), both in [0, 1]."""
    opt = oracle.optimum
    best_val = float(np.nanmax(oracle.mean("validation_accuracy")))
    out = history.copy()
    out["test_regret"] = opt.best_test_accuracy - out["incumbent_mean_test"]
    out["validation_regret"] = best_val - out["incumbent_mean_validation"]
    return out
