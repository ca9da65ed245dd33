import numpy as np
import pytest

from nasbench_sim.bench import Oracle
from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space import Cell
from nasbench_sim.space.sampling import random_cells

from ..conftest import INCEPTION_HASH


@pytest.fixture
def inception(golden):
    spec = golden[INCEPTION_HASH]["example_query_spec"]
    return Cell(spec["matrix"], spec["ops"])


def test_query_samples_real_repeats_and_counts_budget(golden_table, golden, space, inception):
    oracle = Oracle(golden_table, np.random.default_rng(0), space=space)
    repeats = golden[INCEPTION_HASH]["computed_statistics"]["108"]
    finals = {np.float32(r["final_test_accuracy"]) for r in repeats}
    seen = set()
    for _ in range(40):
        result = oracle.query(inception)
        seen.add(np.float32(result["test_accuracy"]))
    assert seen == finals  # every repeat is drawn, nothing else
    assert oracle.total_epochs_spent == 40 * 108
    assert result["trainable_parameters"] == 2_694_282
    assert result["module_operations"] == golden[INCEPTION_HASH]["module_operations"]


def test_halfway_query_counts_half_the_epochs_and_returns_halfway_values(golden_table, golden, space, inception):
    oracle = Oracle(golden_table, np.random.default_rng(0), space=space)
    result = oracle.query(inception, epochs=12, stop_halfway=True)
    halfway = {
        np.float32(r["halfway_validation_accuracy"]) for r in golden[INCEPTION_HASH]["computed_statistics"]["12"]
    }
    assert np.float32(result["validation_accuracy"]) in halfway
    assert oracle.get_budget_counters()[1] == 6
    assert oracle.training_time_spent == pytest.approx(result["training_time"])


def test_analysis_lookups_are_free(golden_table, golden, space, inception):
    oracle = Oracle(golden_table, np.random.default_rng(0), space=space)
    fixed, computed = oracle.metrics(inception)
    assert oracle.get_budget_counters() == (0.0, 0)
    assert fixed["trainable_parameters"] == 2_694_282
    assert computed[4][1]["final_test_accuracy"] == pytest.approx(
        golden[INCEPTION_HASH]["computed_statistics"]["4"][1]["final_test_accuracy"]
    )
    row = space.index(inception)
    tests = [r["final_test_accuracy"] for r in golden[INCEPTION_HASH]["computed_statistics"]["108"]]
    assert oracle.mean("test_accuracy")[row] == pytest.approx(np.mean(np.float32(tests)), abs=1e-7)
    next(oracle.hash_iterator())
    assert oracle.get_budget_counters() == (0.0, 0)


def test_same_seed_same_answers_and_reset(partial, space):
    cells = random_cells(np.random.default_rng(0), 30)
    a = [Oracle(partial, np.random.default_rng(9), space=space).query(c)["validation_accuracy"] for c in cells]
    b = [Oracle(partial, np.random.default_rng(9), space=space).query(c)["validation_accuracy"] for c in cells]
    assert a == b
    oracle = Oracle(partial, 1, space=space)
    oracle.query(cells[0])
    oracle.reset_budget_counters()
    assert oracle.get_budget_counters() == (0.0, 0)


def test_invalid_budget_and_missing_data(partial, golden_table, space, inception):
    oracle = Oracle(partial, 0, space=space)
    with pytest.raises(OutOfDomainError, match="must be one of"):
        oracle.query(inception, epochs=100)
    with pytest.raises(OutOfDomainError, match="no data for 4 epochs"):
        oracle.query(inception, epochs=4)  # the partial table has only the 108-epoch budget
    sparse = Oracle(golden_table, 0, space=space)
    with pytest.raises(OutOfDomainError, match="no data"):
        sparse.query(space.cell(1))


def test_batch_query_matches_table_rows(partial, space):
    cells = random_cells(np.random.default_rng(2), 200)
    oracle = Oracle(partial, np.random.default_rng(0), space=space)
    out = oracle.query_batch(cells)
    rows = out["row"]
    assert np.array_equal(rows, space.indices(cells))
    table_vals = np.asarray(partial.data[rows, :, 0, 1, 1])
    assert all(v in table_vals[i] for i, v in enumerate(out["validation_accuracy"].astype(np.float32)))
    assert oracle.total_epochs_spent == 200 * 108


def test_optimum_is_the_best_mean_validation_cell(partial, space):
    oracle = Oracle(partial, 0, space=space)
    opt = oracle.optimum
    val = partial.mean("validation_accuracy")
    assert opt.row == int(np.argmax(val)) and opt.hash == space.hashes[opt.row].decode()
    assert opt.best_test_accuracy == pytest.approx(float(np.max(partial.mean("test_accuracy"))))
