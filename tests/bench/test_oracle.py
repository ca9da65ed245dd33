import numpy as np
import pytest

from nasbench_sim.bench import Oracle
from nasbench_sim.errors import ConfigError, MissingDataError, OutOfDomainError
from nasbench_sim.space import Cell
from nasbench_sim.space.sampling import random_cells

from ..conftest import INCEPTION_HASH, INCEPTION_SPEC, keyed_copy


@pytest.fixture
def inception():
    return Cell(INCEPTION_SPEC["matrix"], INCEPTION_SPEC["ops"])


def test_query_samples_the_stored_repeats_and_counts_budget(golden_table, records, space, inception):
    oracle = Oracle(golden_table, np.random.default_rng(0), space=space)
    repeats = records[INCEPTION_HASH]["computed_statistics"]["108"]
    finals = {np.float32(r["final_test_accuracy"]) for r in repeats}
    seen = set()
    for _ in range(40):
        result = oracle.query(inception)
        seen.add(np.float32(result["test_accuracy"]))
    assert seen == finals  # every repeat is drawn, nothing else
    assert oracle.total_epochs_spent == 40 * 108
    assert result["trainable_parameters"] == 2_694_282
    assert result["module_operations"] == records[INCEPTION_HASH]["module_operations"]


def test_halfway_query_counts_half_the_epochs_and_returns_halfway_values(golden_table, records, space, inception):
    oracle = Oracle(golden_table, np.random.default_rng(0), space=space)
    result = oracle.query(inception, epochs=12, stop_halfway=True)
    halfway = {
        np.float32(r["halfway_validation_accuracy"]) for r in records[INCEPTION_HASH]["computed_statistics"]["12"]
    }
    assert np.float32(result["validation_accuracy"]) in halfway
    assert oracle.get_budget_counters()[1] == 6
    assert oracle.training_time_spent == pytest.approx(result["training_time"])


def test_analysis_lookups_are_free(golden_table, records, space, inception):
    oracle = Oracle(golden_table, np.random.default_rng(0), space=space)
    fixed, computed = oracle.metrics(inception)
    assert oracle.get_budget_counters() == (0.0, 0)
    assert fixed["trainable_parameters"] == 2_694_282
    assert computed[4][1]["final_test_accuracy"] == pytest.approx(
        records[INCEPTION_HASH]["computed_statistics"]["4"][1]["final_test_accuracy"]
    )
    row = space.index(inception)
    tests = [r["final_test_accuracy"] for r in records[INCEPTION_HASH]["computed_statistics"]["108"]]
    assert oracle.mean("test_accuracy")[row] == pytest.approx(np.mean(np.float32(tests)), abs=1e-7)
    next(oracle.hash_iterator())
    assert oracle.get_budget_counters() == (0.0, 0)


def test_same_seed_same_answers_and_reset(surrogate, space):
    cells = random_cells(np.random.default_rng(0), 30)
    a = [Oracle(surrogate, np.random.default_rng(9), space=space).query(c)["validation_accuracy"] for c in cells]
    b = [Oracle(surrogate, np.random.default_rng(9), space=space).query(c)["validation_accuracy"] for c in cells]
    assert a == b
    oracle = Oracle(surrogate, 1, space=space)
    oracle.query(cells[0])
    oracle.reset_budget_counters()
    assert oracle.get_budget_counters() == (0.0, 0)


def test_invalid_budget_and_missing_data(surrogate, golden_table, space, inception):
    oracle = Oracle(surrogate, 0, space=space)
    with pytest.raises(OutOfDomainError, match="must be one of"):
        oracle.query(inception, epochs=100)
    assert 0 < oracle.query(inception, epochs=4)["validation_accuracy"] < 1  # modelled lower budgets
    from nasbench_sim.bench.table import BenchmarkTable

    only108 = BenchmarkTable(
        surrogate.data[:, :, 3:], surrogate.trainable_parameters, {**surrogate.meta, "epochs": [108]}
    )
    with pytest.raises(OutOfDomainError, match="no data for 4 epochs"):
        Oracle(only108, 0, space=space).query(inception, epochs=4)  # a table with the 108-epoch budget only
    sparse = Oracle(golden_table, 0, space=space)
    # A cell the file lacks: a KeyError like the official API's, saying what the file covers.
    with pytest.raises(KeyError, match="covers 31 of 423,624 cells"):
        sparse.query(space.cell(1))
    with pytest.raises(MissingDataError):
        sparse.query_row(1)
    with pytest.raises(MissingDataError):
        sparse.query_batch(np.array([space.index(inception), 1]))
    assert sparse.get_budget_counters() == (0.0, 0)


def test_domain_errors_are_not_value_errors(surrogate, space, inception):
    # Regression: OutOfDomainError derived from ValueError, so `except ValueError` swallowed it.
    oracle = Oracle(surrogate, 0, space=space)
    with pytest.raises(OutOfDomainError) as caught:
        oracle.query(inception, epochs=5)
    assert not isinstance(caught.value, ValueError)


def test_a_keyed_table_needs_no_space_for_cell_queries(golden_table, inception, records, no_space):
    # `query` on a small file must not enumerate the space: the cell is found by its hash.
    oracle = Oracle(golden_table, np.random.default_rng(0))
    result = oracle.query(inception, epochs=36)
    assert result["module_operations"] == records[INCEPTION_HASH]["module_operations"]
    assert result["module_adjacency"].tolist() == records[INCEPTION_HASH]["module_adjacency"]
    assert oracle.total_epochs_spent == 36
    assert list(oracle.hash_iterator()) == list(records)  # the file's cells, in file order


@pytest.mark.parametrize("order", ["ascending", "permuted"])
def test_a_complete_keyed_table_answers_exactly_like_the_dense_one(surrogate, space, order):
    # The harness API (rows, means, optimum, batch) over a converted complete file: same answers as
    # the dense table with the same values, whatever the file's cell order.
    perm = np.arange(len(space)) if order == "ascending" else np.random.default_rng(0).permutation(len(space))
    keyed = keyed_copy(surrogate, space, perm)
    assert keyed.complete
    dense, sparse = Oracle(surrogate, 5, space=space), Oracle(keyed, 5, space=space)
    cells = random_cells(np.random.default_rng(3), 50)
    for cell in cells:
        x, y = dense.query(cell), sparse.query(cell)
        assert {**x, "module_adjacency": x["module_adjacency"].tolist()} == {
            **y,
            "module_adjacency": y["module_adjacency"].tolist(),
        }
    rows = space.indices(cells)
    assert [dense.query_row(int(r)) for r in rows] == [sparse.query_row(int(r)) for r in rows]
    a, b = dense.query_batch(rows), sparse.query_batch(rows)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert np.array_equal(dense.mean("test_accuracy"), sparse.mean("test_accuracy"), equal_nan=True)
    assert dense.optimum == sparse.optimum
    assert dense.metrics_of_row(int(rows[0]))[1] == sparse.metrics_of_row(int(rows[0]))[1]
    assert dense.get_budget_counters() == sparse.get_budget_counters()


def test_batch_query_matches_table_rows(surrogate, space):
    cells = random_cells(np.random.default_rng(2), 200)
    oracle = Oracle(surrogate, np.random.default_rng(0), space=space)
    out = oracle.query_batch(cells)
    rows = out["row"]
    assert np.array_equal(rows, space.indices(cells))
    table_vals = np.asarray(surrogate.data[rows, :, surrogate.budget_index(108), 1, 1])
    assert all(v in table_vals[i] for i, v in enumerate(out["validation_accuracy"].astype(np.float32)))
    assert oracle.total_epochs_spent == 200 * 108


def test_optimum_is_the_best_mean_validation_cell(surrogate, space):
    oracle = Oracle(surrogate, 0, space=space)
    opt = oracle.optimum
    val = surrogate.mean("validation_accuracy")
    assert opt.row == int(np.argmax(val)) and opt.hash == space.hashes[opt.row].decode()
    assert opt.best_test_accuracy == pytest.approx(float(np.max(surrogate.mean("test_accuracy"))))


@pytest.mark.parametrize("cell", [[[0, 1], [0, 0]], None, "input,output"])
def test_query_of_something_else_than_a_cell_is_a_named_domain_error(surrogate, space, cell):
    # Regression: oracle.query(list) escaped as a raw AttributeError from inside the space index.
    with pytest.raises(OutOfDomainError, match=f"query needs a Cell, got {type(cell).__name__}"):
        Oracle(surrogate, 0, space=space).query(cell)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (np.array([-1, 2]), "row -1 is outside"),
        (np.array([0, 2.7]), "whole numbers"),
        (np.array([[0, 1]]), "1-D array"),
    ],
)
def test_query_batch_refuses_rows_it_would_misread(surrogate, rows, message):
    # Catches query_batch(np.array([-1, 2.7])) answering the last row and row 2.
    oracle = Oracle(surrogate, np.random.default_rng(0))
    with pytest.raises(OutOfDomainError, match=message):
        oracle.query_batch(rows)


def test_bad_oracle_arguments_are_one_clear_error(surrogate):
    # Catches Oracle(table, -1) and query_batch([cell, None]) ending in tracebacks from numpy.
    with pytest.raises(ConfigError, match="rng must be a numpy Generator"):
        Oracle(surrogate, -1)
    with pytest.raises(ConfigError, match="needs a BenchmarkTable"):
        Oracle("surrogate")
    cell = Cell([[0, 1], [0, 0]], ["input", "output"])
    with pytest.raises(OutOfDomainError, match="expected Cells"):
        Oracle(surrogate, 0).query_batch([cell, None])
