"""Every registered searcher keeps the contract `nasbench_sim.testing.check_searcher` checks."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from nasbench_sim.search.model_based import PoolConfig
from nasbench_sim.search.models.ensemble import EnsembleConfig
from nasbench_sim.search.models.neural_process import NeuralProcessConfig
from nasbench_sim.search.registry import ALGORITHMS
from nasbench_sim.testing import check_searcher

# Small settings so the contract runs in seconds; the model-based ones still fit their models.
SMALL = {
    "re": {"population_size": 8, "tournament_size": 3},
    "np": {"num_init": 5, "batch_size": 3, "model": NeuralProcessConfig(members=2, steps=20, refit_steps=5, hidden=16)},
    "bananas": {"num_init": 5, "batch_size": 3, "model": EnsembleConfig(members=2, epochs=10, layers=3)},
    "gp": {"num_init": 5, "pool": PoolConfig(mutations_per_parent=20, min_candidates=None, subsample=50)},
    "tpe": {"num_startup": 5},
}


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_every_registered_searcher_keeps_the_contract(name):
    if name == "tpe":
        pytest.importorskip("optuna")
    config = dataclasses.replace(ALGORITHMS[name].make_config(), **SMALL.get(name, {}))
    report = check_searcher(name, config=config)
    assert all(message is None for message in report.values())


def test_every_registered_searcher_has_a_config_with_defaults_and_a_distinct_colour():
    # Catches a searcher added without the pieces the CLI and the plots need.
    colours = [spec.color for spec in ALGORITHMS.values()]
    assert len(set(colours)) == len(colours)
    for spec in ALGORITHMS.values():
        assert dataclasses.is_dataclass(spec.config) and spec.config.__dataclass_params__.frozen
        spec.make_config()  # every field has a default


def test_listing_the_names_imports_no_searcher_and_no_torch():
    # Catches the CLI's --help paying for a torch import.
    code = (
        "import sys; from nasbench_sim.search.registry import names; n = names(); "
        "from nasbench_sim.cli import build_parser; build_parser(); "
        "print('torch' in sys.modules, 'nasbench_sim.search.model_based' in sys.modules, len(n))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["False", "False"] and int(out[2]) >= 12
