"""Search runs: ask, query the oracle, tell, record; regret afterwards.

`run_lockstep` steps many independent runs (one per seed) together: when their
searchers need a surrogate fit in the same step, the fits are done as one
batched computation (`nasbench_sim.search.base.FitPredict`). A run's
trajectory is the same alone (`run_search`) or in any lock-step group.

Each run has simulated workers (`nasbench_sim.harness.simulator`; default one):
with several, queries run in parallel and results come back in completion order.

Query modes: `single` returns one randomly drawn training repeat per query
(the official API); `mean` returns the mean over the repeats of every metric,
the same on every query of a cell (naszilla's `deterministic=True`). Either way
each query costs one query and its (mean) training time.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench import Oracle, open_table
    >>> from nasbench_sim.harness.run import Budget, run_search, add_regret
    >>> from nasbench_sim.search import RandomSearch, RandomSearchConfig
    >>> oracle = Oracle(open_table("surrogate", progress=False), np.random.default_rng(0))
    >>> history = run_search(RandomSearch(RandomSearchConfig(), np.random.default_rng(1)), oracle, Budget(queries=20))
    >>> len(history), bool((add_regret(history, oracle)["test_regret"] >= 0).all())
    (20, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.bench.oracle import Oracle
from nasbench_sim.bench.table import METRICS
from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.simulator import Timeline, Workers
from nasbench_sim.search.base import FitPredict, Searcher, as_query, fit_predict_many
from nasbench_sim.space.encodings import path_key

MODES = ("mean", "single")

#: Columns of a run history, one row per query.
HISTORY_COLUMNS = {
    "query": "1-based query index",
    "hash": "official hash of the queried cell",
    "row": "row of the cell in the table",
    "epochs": "training budget of the query (epochs)",
    "is_new": "True if the run had not queried this cell before",
    "unique_queries": "distinct cells queried so far",
    "validation_accuracy": "validation accuracy the searcher saw, in [0, 1] (one repeat, or the mean in mean mode)",
    "test_accuracy": "test accuracy of the same repeat (or the mean), in [0, 1]",
    "training_time": "simulated training seconds of this query",
    "cumulative_time": "simulated training seconds of the results back so far, summed over workers",
    "incumbent_row": "row of the incumbent: the best cell so far by what the searcher saw (at the largest budget queried)",
    "incumbent_hash": "hash of that cell",
    "incumbent_mean_validation": "its mean 108-epoch validation accuracy over repeats, from the table",
    "incumbent_mean_test": "its mean 108-epoch test accuracy over repeats, from the table (the reported metric)",
    "incumbent_repeat0_test": "its 108-epoch test accuracy of training repeat 0 (real in the partial table)",
    "search_seconds": "wall-clock seconds of ask() + tell() for this query (a share of batched model fits)",
    "path_repeat": "True if the run had queried a cell with the same input-to-output op paths before (naszilla's identity)",
    "worker": "simulated worker (0-based) that trained the query",
    "start_time": "simulated wall-clock seconds when its training started",
    "end_time": "simulated wall-clock seconds when its result came back (rows are in this order)",
}


@dataclass(frozen=True, kw_only=True)
class Budget:
    """Stop after `queries` queries, or once `seconds` of simulated wall-clock have passed (exactly one).

    With one simulated worker the wall-clock is the training seconds spent.
    """

    queries: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if (self.queries is None) == (self.seconds is None):
            raise ConfigError("give exactly one budget: queries or seconds")
        if self.queries is not None and (isinstance(self.queries, bool) or not isinstance(self.queries, int)):
            raise ConfigError(f"the query budget must be a whole number, got {self.queries!r}")
        if self.seconds is not None and (isinstance(self.seconds, bool) or not isinstance(self.seconds, (int, float))):
            raise ConfigError(f"the time budget must be a number of seconds, got {self.seconds!r}")
        if (self.queries is not None and self.queries < 1) or (
            self.seconds is not None and not 0 < self.seconds < np.inf
        ):
            raise ConfigError("the budget must be positive and finite")

    def describe(self) -> str:
        return f"{self.queries} queries" if self.queries is not None else f"{self.seconds:g} simulated seconds"

    def spent(self, queries: int, seconds: float) -> bool:
        if self.queries is not None:
            return queries >= self.queries
        return seconds >= self.seconds


def has_clock(table: Any) -> bool:
    """True if some cell of the table has a finite 108-epoch training time (the repeat-0 world has none)."""
    times = np.asarray(table.data[..., -1, METRICS.index("training_time")], dtype=np.float64)
    return bool(np.isfinite(times).any())


def check_budget_fits(budget: Budget, table: Any) -> None:
    """Refuse a time budget on a table without training times (the repeat-0 world): it would never end.

    Raises:
        ConfigError: a seconds budget and no finite training time in the table.
    """
    if budget.seconds is None:
        return
    if not has_clock(table):
        raise ConfigError(f"{table.label} has no training times: give a query budget, not --budget-seconds")


def check_workers_fit(workers: Workers, table: Any) -> None:
    """Refuse several simulated workers on a table without training times (the repeat-0 world): no clock.

    Raises:
        ConfigError: more than one worker (or a charged search time) and no finite training time.
    """
    if workers.sequential:
        return
    if not has_clock(table):
        raise ConfigError(f"{table.label} has no training times: simulated workers need a clock; use one worker")


class _Run:
    """Book-keeping of one run inside `run_lockstep`."""

    def __init__(self, searcher: Searcher, oracle: Oracle, workers: Workers) -> None:
        self.searcher, self.oracle = searcher, oracle
        synchronous = getattr(searcher, "asynchronous", True) is False
        self.timeline = Timeline(workers, synchronous=synchronous)
        self.set_pending = getattr(searcher, "set_pending", None)
        self.records: list[tuple] = []
        self.seen: set[int] = set()
        self.paths: set = set()
        self.best = (-1, -np.inf)  # (epochs, signal) of the incumbent
        self.incumbent = -1
        self.spent = 0.0  # simulated training seconds of the results back so far
        self.seconds = 0.0  # search time of the current proposal
        self.proposal = None
        self.steps = None

    def may_ask(self, budget: Budget) -> bool:
        """A worker is free, the searcher may be asked and the budget allows another query."""
        line = self.timeline
        return line.can_start() and not budget.spent(line.issued, line.now)

    def busy(self) -> bool:
        return self.timeline.busy > 0


def run_search(
    searcher: Searcher, oracle: Oracle, budget: Budget, *, mode: str = "single", workers: Workers | None = None
) -> pd.DataFrame:
    """Run one searcher against the oracle until the budget is spent (see `run_lockstep`)."""
    return run_lockstep([searcher], [oracle], budget, mode=mode, workers=workers)[0]


def run_lockstep(
    searchers: Sequence[Searcher],
    oracles: Sequence[Oracle],
    budget: Budget,
    *,
    mode: str = "single",
    workers: Workers | None = None,
) -> list[pd.DataFrame]:
    """Run independent searchers, one per oracle, in lock step until each one's budget is spent.

    Each run has its own simulated workers (`nasbench_sim.harness.simulator`): a query
    occupies a worker for its training time and results come back in completion order.
    A time budget is simulated wall-clock seconds: no query starts once the clock has
    reached it, and the queries already started finish (so the last may cross it, as a
    real training run would). With one worker this is the sequential ask, query, tell loop.

    Args:
        searchers: one per run (their own random streams).
        oracles: one per run (their own random streams; they may share a table).
        budget: the stopping rule of every run.
        mode: 'single' or 'mean' (see the module docstring).
        workers: simulated workers of each run (default: one, the sequential protocol).

    Returns:
        One history per run with the columns of `HISTORY_COLUMNS`, one row per query, in the
        order the results came back.

    Raises:
        ConfigError: a searcher's ask() returned None with no evaluation in flight.
    """
    if mode not in MODES:
        raise ConfigError(f"unknown query mode {mode!r} (choices: {', '.join(MODES)})")
    if len(searchers) != len(oracles):
        raise ValueError("need one oracle per searcher")
    workers = Workers() if workers is None else workers
    tables = [getattr(o, "table", None) for o in oracles]  # a stand-in oracle (testing.SyntheticOracle) has none
    for table in {id(t): t for t in tables if t is not None}.values():
        check_budget_fits(budget, table)
        check_workers_fit(workers, table)
    runs = [_Run(s, o, workers) for s, o in zip(searchers, oracles, strict=True)]
    active = list(runs)
    while active:
        asking = [r for r in active if r.may_ask(budget)]
        _ask_all(asking)
        for run in asking:
            _start(run, mode)
        asked = {id(r) for r in asking}
        for run in active:
            if id(run) not in asked:
                _finish(run)
        active = [r for r in active if r.busy() or r.may_ask(budget)]
    return [pd.DataFrame.from_records(r.records, columns=list(HISTORY_COLUMNS)) for r in runs]


def _ask_all(runs: list[_Run]) -> None:
    """Every run's next proposal; model fits requested in the same round are batched."""
    pending: dict[int, FitPredict] = {}
    for k, run in enumerate(runs):
        start = time.perf_counter()
        if run.set_pending is not None:
            run.set_pending(tuple(job[0] for job in run.timeline.pending_jobs()))
        steps = getattr(run.searcher, "ask_steps", None)
        if steps is None:
            run.proposal = run.searcher.ask()
        else:
            run.steps = steps()
            request = _advance(run, None)
            if request is not None:
                pending[k] = request
        run.seconds = time.perf_counter() - start
    while pending:
        groups: dict[type, list[int]] = {}
        for k, request in pending.items():
            groups.setdefault(type(request.model), []).append(k)
        answered: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for ks in groups.values():
            start = time.perf_counter()
            results = fit_predict_many([pending[k] for k in ks])
            share = (time.perf_counter() - start) / len(ks)
            for k, result in zip(ks, results, strict=True):
                answered[k] = result
                runs[k].seconds += share
        pending = {}
        for k, result in answered.items():
            start = time.perf_counter()
            request = _advance(runs[k], result)
            runs[k].seconds += time.perf_counter() - start
            if request is not None:
                pending[k] = request


def _advance(run: _Run, answer: tuple[np.ndarray, np.ndarray] | None) -> FitPredict | None:
    """Step a run's `ask_steps` generator: its next request, or None once it has proposed."""
    try:
        return next(run.steps) if answer is None else run.steps.send(answer)
    except StopIteration as stop:
        run.proposal, run.steps = stop.value, None
        return None


def _start(run: _Run, mode: str) -> None:
    """Query the oracle for the run's proposal and put the job on a free worker (None: wait for a result)."""
    if run.proposal is None:
        if not run.busy():
            raise ConfigError(
                f"{type(run.searcher).__name__}.ask() returned None with no evaluation in flight"
                " (None means: wait for a pending result)"
            )
        run.timeline.stall()
        return
    query = as_query(run.proposal)
    oracle = run.oracle
    row = oracle.row(query.cell)
    result = oracle.query_mean_row(row, query.epochs) if mode == "mean" else oracle.query_row(row, query.epochs)
    job = (query, run.proposal, row, result, run.seconds)
    run.timeline.start(float(result["training_time"]), job, search_seconds=run.seconds)
    run.proposal = None


def _finish(run: _Run) -> None:
    """Tell the searcher the next result that comes back and record it."""
    worker, begin, end, (query, proposal, row, result, seconds) = run.timeline.finish()
    if math.isnan(result["training_time"]):  # a table without a clock (the repeat-0 world)
        begin = end = math.nan
    oracle = run.oracle
    start = time.perf_counter()
    run.searcher.tell(proposal, result["validation_accuracy"])
    seconds += time.perf_counter() - start
    is_new = row not in run.seen
    run.seen.add(row)
    paths = path_key(query.cell)
    path_repeat = paths in run.paths
    run.paths.add(paths)
    run.spent += result["training_time"]
    signal = (query.epochs, result["validation_accuracy"])
    if signal[0] > run.best[0] or (signal[0] == run.best[0] and signal[1] > run.best[1]):
        run.best, run.incumbent = signal, row
    inc = run.incumbent
    run.records.append(
        (
            len(run.records) + 1,
            query.cell.hash,
            row,
            query.epochs,
            is_new,
            len(run.seen),
            result["validation_accuracy"],
            result["test_accuracy"],
            result["training_time"],
            run.spent,
            inc,
            oracle.hash_of_row(inc),
            *oracle.incumbent_values(inc),
            seconds,
            path_repeat,
            worker,
            begin,
            end,
        )
    )


def add_regret(history: pd.DataFrame, oracle: Oracle) -> pd.DataFrame:
    """Add regrets in [0, 1] against the table's best cell: `test_regret` (best mean test accuracy
    minus the incumbent's), `validation_regret` (likewise for validation) and
    `repeat0_test_regret` (likewise for the repeat-0 test accuracy)."""
    opt = oracle.optimum
    best_val = float(np.nanmax(oracle.mean("validation_accuracy")))
    best_repeat0 = float(np.nanmax(oracle.repeat_values("test_accuracy", 0)))
    out = history.copy()
    out["test_regret"] = opt.best_test_accuracy - out["incumbent_mean_test"]
    out["validation_regret"] = best_val - out["incumbent_mean_validation"]
    out["repeat0_test_regret"] = best_repeat0 - out["incumbent_repeat0_test"]
    return out
