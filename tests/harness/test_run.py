import numpy as np
import pytest

from nasbench_sim.bench import Oracle
from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.run import HISTORY_COLUMNS, Budget, add_regret, run_search
from nasbench_sim.search import RandomSearch, RandomSearchConfig


def _history(table, space, mode, dedup=None, queries=60):
    oracle = Oracle(table, np.random.default_rng(0), space=space)
    searcher = RandomSearch(RandomSearchConfig(dedup=dedup), np.random.default_rng(1))
    return add_regret(run_search(searcher, oracle, Budget(queries=queries), mode=mode), oracle), oracle


@pytest.mark.parametrize("mode", ["single", "mean"])
def test_history_has_every_column_and_the_incumbent_is_the_best_signal(surrogate, space, mode):
    history, oracle = _history(surrogate, space, mode)
    assert list(history.columns[: len(HISTORY_COLUMNS)]) == list(HISTORY_COLUMNS)
    best_seen = np.maximum.accumulate(history["validation_accuracy"].to_numpy())
    incumbent_val = [history["validation_accuracy"][history["row"] == r].max() for r in history["incumbent_row"]]
    assert np.allclose(incumbent_val, best_seen)
    assert np.allclose(history["cumulative_time"], np.cumsum(history["training_time"]))
    assert (history["test_regret"] >= -1e-12).all() and (history["validation_regret"] >= -1e-12).all()
    # Regret uses table means, never the sampled repeat.
    means = oracle.mean("test_accuracy")
    assert np.allclose(history["test_regret"], oracle.optimum.best_test_accuracy - means[history["incumbent_row"]])
    assert np.allclose(
        history["incumbent_repeat0_test"], oracle.repeat_values("test_accuracy", 0)[history["incumbent_row"]]
    )


def test_mean_mode_returns_the_table_means(surrogate, space):
    # Catches the naszilla signal (mean of the three repeats) being sampled instead of looked up.
    history, oracle = _history(surrogate, space, "mean")
    rows = history["row"].to_numpy()
    assert np.allclose(history["validation_accuracy"], oracle.mean("validation_accuracy")[rows])
    assert np.allclose(history["test_accuracy"], oracle.mean("test_accuracy")[rows])


def test_unique_queries_count_distinct_cells(surrogate, space):
    history, _ = _history(surrogate, space, "single", queries=40)
    rows = history["row"].tolist()
    assert history["unique_queries"].tolist() == [len(set(rows[: i + 1])) for i in range(len(rows))]
    assert history["is_new"].tolist() == [rows[i] not in rows[:i] for i in range(len(rows))]
    deduped, _ = _history(surrogate, space, "single", dedup="paths", queries=40)
    assert deduped["is_new"].all()


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"queries": 5, "seconds": 1.0}, {"queries": 0}, {"seconds": -1.0}, {"queries": 2.5}, {"queries": True}],
)
def test_bad_budgets_are_rejected(kwargs):
    # Catches budget = 2.5 silently becoming 2 queries.
    with pytest.raises(ConfigError):
        Budget(**kwargs)


def test_unknown_mode_is_a_clear_error(surrogate, space):
    with pytest.raises(ConfigError, match="unknown query mode 'avg'"):
        _history(surrogate, space, "avg")
