"""One contract for every registered searcher: valid cells, budget respected, seeded, seeds differ,
no global random state, and the same trajectory alone or batched with other runs.

Runs on the embedded surrogate table, so it needs no real data.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nasbench_sim.bench import Oracle
from nasbench_sim.harness.run import Budget, run_lockstep, run_search
from nasbench_sim.search.model_based import PoolConfig
from nasbench_sim.search.registry import ALGORITHMS
from nasbench_sim.search.surrogates import EnsembleConfig, NeuralProcessConfig
from nasbench_sim.space import Cell

# Small settings so the contract runs in seconds; the model-based ones still fit their models.
SMALL = {
    "re": {"population_size": 8, "tournament_size": 3},
    "np": {"num_init": 5, "batch_size": 3, "model": NeuralProcessConfig(members=2, steps=20, refit_steps=5, hidden=16)},
    "bananas": {"num_init": 5, "batch_size": 3, "model": EnsembleConfig(members=2, epochs=10, layers=3)},
    "gp": {"num_init": 5, "pool": PoolConfig(mutations_per_parent=20, min_candidates=None, subsample=50)},
    "tpe": {"num_startup": 5},
}
QUERIES = 20


def _config(name):
    return dataclasses.replace(ALGORITHMS[name].config(), **SMALL.get(name, {}))


def _searcher(name, seed):
    return ALGORITHMS[name].searcher(_config(name), np.random.default_rng(seed), device="cpu")


def _run(name, seed, table, space, budget=None, mode="single"):
    oracle = Oracle(table, np.random.default_rng(seed + 1000), space=space)
    return run_search(_searcher(name, seed), oracle, budget or Budget(queries=QUERIES), mode=mode)


@pytest.fixture(params=sorted(ALGORITHMS))
def name(request):
    if request.param == "tpe":
        pytest.importorskip("optuna")
    return request.param


def test_proposes_only_valid_cells_and_respects_the_query_budget(name, surrogate, space):
    history = _run(name, 0, surrogate, space)
    assert len(history) == QUERIES
    for row in history["row"].tolist():
        cell = space.cell(int(row))
        assert isinstance(cell, Cell) and cell.num_vertices <= 7 and cell.num_edges <= 9


def test_time_budget_stops_at_the_first_query_past_it(name, surrogate, space):
    history = _run(name, 0, surrogate, space, Budget(seconds=20_000.0))
    times = history["cumulative_time"].to_numpy()
    assert times[-1] >= 20_000.0 and (len(times) == 1 or times[-2] < 20_000.0)


@pytest.mark.parametrize("mode", ["single", "mean"])
def test_same_seed_same_trajectory(name, surrogate, space, mode):
    a = _run(name, 3, surrogate, space, mode=mode)
    b = _run(name, 3, surrogate, space, mode=mode)
    assert a["hash"].tolist() == b["hash"].tolist()
    assert a["validation_accuracy"].tolist() == b["validation_accuracy"].tolist()


def test_different_seeds_differ(name, surrogate, space):
    assert _run(name, 1, surrogate, space)["hash"].tolist() != _run(name, 2, surrogate, space)["hash"].tolist()


def test_same_trajectory_alone_and_in_a_lockstep_batch(name, surrogate, space):
    # Catches batched surrogate fits leaking between runs (a run's result must not depend on its batch).
    seeds = [4, 5, 6]
    oracles = [Oracle(surrogate, np.random.default_rng(s + 1000), space=space) for s in seeds]
    together = run_lockstep([_searcher(name, s) for s in seeds], oracles, Budget(queries=QUERIES), mode="mean")
    alone = _run(name, 5, surrogate, space, mode="mean")
    assert together[1]["hash"].tolist() == alone["hash"].tolist()


def test_searchers_do_not_touch_global_rngs(name, surrogate, space):
    # Catches hidden use of np.random / torch global state (principle: no hidden global RNG).
    import random

    import torch

    np.random.seed(123)
    torch.manual_seed(123)
    random.seed(123)
    expected = (np.random.random(), torch.rand(1).item(), random.random())
    np.random.seed(123)
    torch.manual_seed(123)
    random.seed(123)
    _run(name, 0, surrogate, space, Budget(queries=8))
    assert (np.random.random(), torch.rand(1).item(), random.random()) == expected


def test_every_registered_searcher_has_a_config_with_defaults_and_a_fixed_style():
    # Catches a searcher added without the pieces the CLI and the plots need.
    colours = [spec.color for spec in ALGORITHMS.values()]
    assert len(set(colours)) == len(colours)
    for spec in ALGORITHMS.values():
        assert dataclasses.is_dataclass(spec.config) and spec.config.__dataclass_params__.frozen
        spec.config()  # every field has a default


def test_the_cli_lists_the_registry():
    from nasbench_sim.cli import ALGORITHM_NAMES

    assert tuple(ALGORITHMS) == ALGORITHM_NAMES
