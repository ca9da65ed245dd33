"""Multi-objective search runs on NB101, scored against the exact Pareto front; resumable experiments.

The searcher sees, per query, each objective as a search would measure it: an
error objective as the validation error of one training repeat drawn by the
oracle (the single-objective `single` mode), parameters and FLOPs exactly, the
training time of that repeat. Each query is scored on the table's values
(`objectives.objective_matrix`: the error objective's test error, e.g. the
real repeat-0 test error of the partial table) and, after each query, the
cells found so far are scored against the exact front of those objectives:
hypervolume, IGD and IGD+ on objectives normalised from the front's ideal point (0)
to its nadir (1), reference point `front.REFERENCE` (1.1); `hypervolume_ratio`
is the found set's hypervolume over the exact front's (1 = the front found).

`run_experiment` runs searchers x seeds into `results/<experiment>/runs/<name>/
seed_NNNN.parquet` (the single-objective store: page checksums, the run's
description embedded), skipping finished runs; each seed's searcher and oracle
streams come from `SeedSequence(seed).spawn(2)`, so a run is the same alone,
resumed or in any order.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench import open_table
    >>> from nasbench_sim.multiobjective.run import Scoring, run_multiobjective
    >>> from nasbench_sim.multiobjective.registry import build_searcher, qualified, resolve
    >>> table = open_table("surrogate", progress=False)
    >>> scoring = Scoring.of(table, ["test_error", "params"])
    >>> history = run_multiobjective(build_searcher("mo-re", np.random.default_rng(0)), table, scoring, 30,
    ...                              np.random.default_rng(1))
    >>> len(history), bool(history["hypervolume_ratio"].is_monotonic_increasing)
    (30, True)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import moocore
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from nasbench_sim._checks import whole_number
from nasbench_sim.bench.oracle import Oracle
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.errors import ConfigError, OutOfDomainError
from nasbench_sim.harness.store import read_run, run_is_done, run_path, write_run
from nasbench_sim.multiobjective.front import REFERENCE, exact_front, hypervolume, igd, igd_plus, normalise
from nasbench_sim.multiobjective.objectives import check_objectives, objective_matrix
from nasbench_sim.multiobjective.registry import build_searcher, qualified, resolve
from nasbench_sim.multiobjective.search import MultiObjectiveSearcher
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.cellspace import CellSpace
from nasbench_sim.space.space_costs import space_flops

_ERRORS = ("test_error", "test_error_repeat0")


@dataclass(frozen=True)
class Scoring:
    """What a run is scored against: the table's objective values and their exact front.

    Attributes:
        names: the objectives (all minimised).
        points: (N, m) the table's values per space row (`objective_matrix`).
        front: (k, m) the exact front, normalised (ideal 0, nadir 1).
        ideal, nadir: (m,) of the exact front.
        front_hypervolume: the exact front's normalised hypervolume.
    """

    names: tuple[str, ...]
    points: np.ndarray
    front: np.ndarray
    ideal: np.ndarray
    nadir: np.ndarray
    front_hypervolume: float

    @classmethod
    def of(cls, table: BenchmarkTable, names: Sequence[str], space: CellSpace | None = None) -> Scoring:
        """The scoring of `names` on `table` (computed once, shared by every run on it)."""
        names = check_objectives(names)
        if sum(name in _ERRORS for name in names) > 1:
            raise ConfigError("give one error objective (test_error or test_error_repeat0)")
        points = objective_matrix(table, names, space)
        front = points[exact_front(points)]
        if not len(front):
            missing = [n for j, n in enumerate(names) if np.isnan(points[:, j]).all()]
            raise ConfigError(f"{table.label} has no values of {', '.join(missing or names)}")
        ideal, nadir = front.min(axis=0), front.max(axis=0)
        if not (nadir > ideal).all():
            flat = [n for n, low, high in zip(names, ideal, nadir, strict=True) if not high > low]
            raise ConfigError(
                f"the exact front of {', '.join(names)} has one value of {', '.join(flat)}: these objectives do "
                "not trade off on this table (the same cells are best in all of them), so there is nothing to score"
            )
        normalised = np.unique(normalise(front, ideal, nadir), axis=0)  # cells with equal values: one point
        return cls(tuple(names), points, normalised, ideal, nadir, hypervolume(normalised, [REFERENCE] * len(names)))


def run_multiobjective(
    searcher: MultiObjectiveSearcher,
    table: BenchmarkTable,
    scoring: Scoring,
    queries: int,
    rng: np.random.Generator,
    space: CellSpace | None = None,
) -> pd.DataFrame:
    """Run one search for `queries` queries and return its history (one row per query).

    Args:
        searcher: the multi-objective searcher (fresh).
        table: the benchmark table.
        scoring: `Scoring.of(table, names)`.
        queries: the budget.
        rng: the oracle's stream (which training repeat each query draws).
        space: the cell space (default: this machine's cached one).

    Returns:
        columns `query`, `hash`, `row`, `seen_<name>` (what the searcher was told),
        `score_<name>` (the table's value), `hypervolume`, `hypervolume_ratio`,
        `igd` and `igd_plus` (of the cells found so far, normalised) and `search_seconds`.
    """
    space = space if space is not None else CellSpace.load_or_build(progress=False)
    oracle = Oracle(table, rng, space=space)
    flops = space_flops(space) if "flops" in scoring.names else None
    reference = [REFERENCE] * len(scoring.names)
    rows, seen, found, hv, igd_values, igd_plus_values, seconds = [], [], [], [], [], [], []
    for _ in range(queries):
        start = time.perf_counter()
        cell = searcher.ask()
        asked = time.perf_counter() - start
        if not isinstance(cell, Cell):
            raise OutOfDomainError(f"{type(searcher).__name__}.ask() returned {cell!r:.60}: it must return a Cell")
        row = space.index(cell)
        result = oracle.query_row(row)
        told = np.array([_seen(name, result, row, space, flops) for name in scoring.names])
        start = time.perf_counter()
        searcher.tell(cell, told)
        seconds.append(asked + time.perf_counter() - start)
        rows.append(row)
        seen.append(told)
        point = normalise(scoring.points[row], scoring.ideal, scoring.nadir)
        found.append(point)
        keep = np.asarray(found)[moocore.is_nondominated(np.asarray(found))]
        found = list(keep)
        hv.append(hypervolume(keep, reference))
        igd_values.append(igd(keep, scoring.front))
        igd_plus_values.append(igd_plus(keep, scoring.front))
    history = pd.DataFrame({"query": np.arange(1, queries + 1), "hash": space.hashes[rows].astype(str), "row": rows})
    seen_array, scores = np.array(seen), scoring.points[rows]
    for j, name in enumerate(scoring.names):
        history[f"seen_{name}"] = seen_array[:, j]
        history[f"score_{name}"] = scores[:, j]
    history["hypervolume"] = hv
    history["hypervolume_ratio"] = np.asarray(hv) / scoring.front_hypervolume
    history["igd"] = igd_values
    history["igd_plus"] = igd_plus_values
    history["search_seconds"] = seconds
    return history


def _seen(name: str, result: dict[str, float], row: int, space: CellSpace, flops: np.ndarray | None) -> float:
    """One objective as the searcher measures it for the queried cell (parameters and FLOPs: exact)."""
    if name in _ERRORS:
        return 100.0 * (1.0 - result["validation_accuracy"])
    if name == "params":
        return float(space.trainable_parameters[row])
    if name == "flops":
        return float(flops[row])
    return float(result["training_time"])


def run_experiment(
    table: BenchmarkTable | Sequence[BenchmarkTable],
    names: Sequence[str],
    algorithms: Sequence[str | type],
    seeds: Sequence[int],
    queries: int,
    folder: str | Path,
    *,
    progress: bool = True,
) -> pd.DataFrame:
    """Run every (algorithm, seed) not finished yet into `folder`; returns all runs' histories.

    Args:
        table: one table, or one per noise realization (`harness.inputs.open_tables`): seed s runs on
            table s % len(tables), with that table's own exact front.
        algorithms: registered names, `'package.module:Class'` references or searcher classes
            (`multiobjective.registry.resolve`); each names its folder of runs.

    Raises:
        ConfigError: an unknown algorithm or objective, a keyed table, or a budget below 1.
    """
    tables = [table] if isinstance(table, BenchmarkTable) else list(table)
    if not tables or any(t.keyed for t in tables):
        raise ConfigError("multi-objective runs need a dense table (partial, surrogate or a complete official one)")
    whole_number(queries, "queries")
    resolved = [resolve(item) for item in algorithms]  # fails early on an unknown name
    searchers = {name: item for (name, _, _), item in zip(resolved, algorithms, strict=True)}
    if len(searchers) < len(algorithms):
        raise ConfigError(f"a searcher is given twice: {', '.join(name for name, _, _ in resolved)}")
    classes = {name: qualified(cls) for name, _, cls in resolved}
    folder = Path(folder)
    space = CellSpace.load_or_build(progress=False)
    objectives = check_objectives(names)
    scorings: dict[int, Scoring] = {}

    def scoring_of(seed: int) -> Scoring:  # built when first needed: an exact front per table
        r = seed % len(tables)
        if r not in scorings:
            scorings[r] = Scoring.of(tables[r], objectives, space)
        return scorings[r]

    def describe(name: str, seed: int) -> dict[str, Any]:
        world = tables[seed % len(tables)]
        return {
            "objectives": list(objectives),
            "queries": queries,
            "table": world.label,
            "realization": seed % len(tables),
            "realizations": len(tables),
            "algorithm": name,
            "class": classes[name],
            "seed": seed,
        }

    todo = [(n, s) for n in searchers for s in seeds if not run_is_done(run_path(folder, n, s), describe(n, s))]
    for name, seed in tqdm(todo, desc="multi-objective runs", unit="run", disable=not progress):
        searcher_seq, oracle_seq = np.random.SeedSequence(seed).spawn(2)
        searcher = build_searcher(searchers[name], np.random.default_rng(searcher_seq))
        world = tables[seed % len(tables)]
        history = run_multiobjective(
            searcher, world, scoring_of(seed), queries, np.random.default_rng(oracle_seq), space
        )
        write_run(run_path(folder, name, seed), history, describe(name, seed))
    frames = []
    for name in searchers:
        for seed in seeds:
            history, _ = read_run(run_path(folder, name, seed))
            frames.append(history.assign(algorithm=name, seed=seed, realization=seed % len(tables)))
    return pd.concat(frames, ignore_index=True)
