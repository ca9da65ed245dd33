"""One contract for every searcher: valid cells, budget respected, seeded, seeds differ."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_sim.bench import Oracle
from nasbench_sim.harness.run import Budget, run_search
from nasbench_sim.search import (
    GPBO,
    NPNAS,
    TPE,
    Bananas,
    BananasConfig,
    EvolutionConfig,
    GPBOConfig,
    LocalSearch,
    LocalSearchConfig,
    NPNASConfig,
    RandomSearch,
    RandomSearchConfig,
    RegularizedEvolution,
    TPEConfig,
)
from nasbench_sim.space import Cell

# Small configs so the whole contract runs in seconds; the model-based ones still fit models.
SEARCHERS = {
    "rs": (RandomSearch, RandomSearchConfig()),
    "re": (RegularizedEvolution, EvolutionConfig(population_size=8, tournament_size=3)),
    "ls": (LocalSearch, LocalSearchConfig()),
    "gp": (GPBO, GPBOConfig(num_init=5, batch_size=3)),
    "np": (NPNAS, NPNASConfig(num_init=5, batch_size=3, steps=30, refit_steps=10, hidden=32)),
    "bananas": (Bananas, BananasConfig(num_init=5, batch_size=3, epochs=20, members=2)),
    "tpe": (TPE, TPEConfig(num_startup=5)),
}
QUERIES = 20


def _run(name, seed, table, space, budget=None):
    budget = budget or Budget(queries=QUERIES)
    cls, config = SEARCHERS[name]
    rng = np.random.default_rng(seed)
    searcher = cls(config, rng, device="cpu")
    return run_search(searcher, Oracle(table, np.random.default_rng(seed + 1000), space=space), budget)


@pytest.fixture(params=sorted(SEARCHERS))
def name(request):
    if request.param == "tpe":
        pytest.importorskip("optuna")
    return request.param


def test_proposes_only_valid_cells_and_respects_the_query_budget(name, partial, space):
    history = _run(name, 0, partial, space)
    assert len(history) == QUERIES
    for row in history["row"].tolist():
        cell = space.cell(int(row))
        assert isinstance(cell, Cell) and cell.num_vertices <= 7 and cell.num_edges <= 9


def test_time_budget_stops_at_the_first_query_past_it(name, partial, space):
    history = _run(name, 0, partial, space, Budget(seconds=20_000.0))
    times = history["cumulative_time"].to_numpy()
    assert times[-1] >= 20_000.0 and (len(times) == 1 or times[-2] < 20_000.0)


def test_same_seed_same_trajectory(name, partial, space):
    a = _run(name, 3, partial, space)
    b = _run(name, 3, partial, space)
    assert a["hash"].tolist() == b["hash"].tolist()
    assert a["validation_accuracy"].tolist() == b["validation_accuracy"].tolist()


def test_different_seeds_differ(name, partial, space):
    assert _run(name, 1, partial, space)["hash"].tolist() != _run(name, 2, partial, space)["hash"].tolist()


def test_searchers_do_not_touch_global_rngs(name, partial, space):
    # Catches hidden use of np.random / torch global state (principle: no hidden global RNG).
    import torch

    np.random.seed(123)
    torch.manual_seed(123)
    expected_np, expected_torch = np.random.random(), torch.rand(1).item()
    np.random.seed(123)
    torch.manual_seed(123)
    _run(name, 0, partial, space, Budget(queries=8))
    assert np.random.random() == expected_np and torch.rand(1).item() == expected_torch
