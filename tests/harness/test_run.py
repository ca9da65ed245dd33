import numpy as np
import pytest

from nasbench_sim.bench import Oracle
from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.run import HISTORY_COLUMNS, Budget, add_regret, run_search
from nasbench_sim.search import RandomSearch, RandomSearchConfig


def test_history_has_every_column_and_a_monotone_incumbent(partial, space):
    oracle = Oracle(partial, np.random.default_rng(0), space=space)
    history = add_regret(
        run_search(RandomSearch(RandomSearchConfig(), np.random.default_rng(1)), oracle, Budget(queries=60)), oracle
    )
    assert list(history.columns[: len(HISTORY_COLUMNS)]) == list(HISTORY_COLUMNS)
    best_seen = np.maximum.accumulate(history["validation_accuracy"].to_numpy())
    incumbent_val = [history["validation_accuracy"][history["row"] == r].max() for r in history["incumbent_row"]]
    assert np.allclose(incumbent_val, best_seen)
    assert np.allclose(history["cumulative_time"], np.cumsum(history["training_time"]))
    assert (history["test_regret"] >= -1e-12).all() and (history["validation_regret"] >= -1e-12).all()
    # Regret uses table means, never the sampled repeat.
    means = partial.mean("test_accuracy")
    assert np.allclose(history["test_regret"], oracle.optimum.best_test_accuracy - means[history["incumbent_row"]])


@pytest.mark.parametrize("kwargs", [{}, {"queries": 5, "seconds": 1.0}, {"queries": 0}, {"seconds": -1.0}])
def test_bad_budgets_are_rejected(kwargs):
    with pytest.raises(ConfigError):
        Budget(**kwargs)
