import numpy as np
import pytest

from nasbench_sim.bench.table import METRICS, POINTS
from nasbench_sim.errors import ConfigError
from nasbench_sim.multiobjective.front import exact_front
from nasbench_sim.multiobjective.objectives import objective_matrix
from nasbench_sim.space.space_costs import space_flops

TEST, TIME, FINAL = METRICS.index("test_accuracy"), METRICS.index("training_time"), POINTS.index("final")


def test_columns_of_a_dense_table_are_its_values_in_the_spaces_order(surrogate, space):
    points = objective_matrix(
        surrogate, ["test_error", "test_error_repeat0", "params", "flops", "train_time"], space=space
    )
    final = np.asarray(surrogate.data[:, :, surrogate.epochs.index(108), FINAL], dtype=np.float64)
    assert np.allclose(points[:, 0], 100 * (1 - final[:, :, TEST].mean(axis=1)))
    assert np.array_equal(points[:, 1], 100 * (1 - final[:, 0, TEST]))
    assert np.array_equal(points[:, 2], surrogate.trainable_parameters.astype(float))
    assert np.array_equal(points[:, 3], space_flops(space).astype(float))
    assert np.allclose(points[:, 4], final[:, :, TIME].mean(axis=1))


def test_a_keyed_table_places_its_cells_by_hash_and_leaves_the_rest_nan(golden_table, space):
    points = objective_matrix(golden_table, ["test_error_repeat0", "params"], space=space)
    rows = [space.index_of_hash(h.decode()) for h in golden_table.cells.hashes.tolist()]
    assert np.isnan(points).any(axis=1).sum() == len(space) - len(rows)
    assert np.array_equal(points[rows, 1], golden_table.trainable_parameters.astype(float))
    assert set(exact_front(points).tolist()) <= set(rows)  # the front is taken over the file's cells only


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["test_error", "latency"], "unknown objective 'latency' \\(choices: test_error, "),
        (["params", "params"], "two or more different names"),
        (["params"], "two or more different names"),
    ],
)
def test_bad_objectives_are_one_clear_error(surrogate, space, names, message):
    with pytest.raises(ConfigError, match=message):
        objective_matrix(surrogate, names, space=space)


def test_the_exact_front_of_a_table_sample_equals_brute_force(surrogate, space):
    # On 1,500 cells of a table (real objective values, many near ties): every front cell is undominated
    # by every other cell, and every other cell is dominated by some front cell.
    rows = np.random.default_rng(0).choice(len(space), 1_500, replace=False)
    points = objective_matrix(surrogate, ["test_error", "params"], space=space)[rows]
    front = set(exact_front(points).tolist())
    dominates = (points[:, None, :] <= points[None, :, :]).all(axis=2) & (points[:, None, :] < points[None, :, :]).any(
        axis=2
    )  # [a, b]: a dominates b
    assert front == set(np.flatnonzero(~dominates.any(axis=0)).tolist())
