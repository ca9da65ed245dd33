import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.multiobjective.front import exact_front, hypervolume, igd, igd_plus, normalise


def _brute_force_front(points: np.ndarray) -> list[int]:
    """Rows no other row dominates, by comparing every pair (rows with NaN left out)."""
    rows = [i for i in range(len(points)) if not np.isnan(points[i]).any()]
    return sorted(
        i
        for i in rows
        if not any((points[j] <= points[i]).all() and (points[j] < points[i]).any() for j in rows if j != i)
    )


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=40),
    objectives=st.sampled_from([2, 3]),
    nan_row=st.booleans(),
)
def test_the_exact_front_equals_brute_force_ties_and_nans_included(values, objectives, nan_row):
    # Small integers make many ties: equal points are all kept (each is a cell); NaN rows are never on it.
    points = np.array(values, dtype=np.float64)[:, :objectives]
    if nan_row:
        points[0, 0] = np.nan
    front = exact_front(points)
    assert sorted(front.tolist()) == _brute_force_front(points)
    assert np.all(np.diff(points[front, 0]) >= 0)  # by ascending first objective


def test_hypervolume_igd_and_igd_plus_of_a_hand_made_set():
    front = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    found = np.array([[0.0, 1.0], [1.0, 0.5]])
    # Boxes to (2, 2): [0,2]x[1,2] = 2, [1,2]x[0.5,1] = 0.5.
    assert hypervolume(found, reference=[2.0, 2.0]) == pytest.approx(2.5)
    assert hypervolume(front, reference=[2.0, 2.0]) == pytest.approx(2 + 0.75 + 0.5)  # [.5,2]x[.5,1], [1,2]x[0,.5]
    assert hypervolume(np.array([[3.0, 3.0]]), reference=[2.0, 2.0]) == 0.0  # beyond the reference: nothing
    # IGD: from (0,1): 0; from (0.5,0.5): to (1,0.5) 0.5; from (1,0): to (1,0.5) 0.5 -> mean 1/3.
    assert igd(found, front) == pytest.approx(1 / 3)
    # IGD+: only where the found point is worse: (0.5,0.5) vs (1,0.5): 0.5; (1,0) vs (1,0.5): 0.5.
    assert igd_plus(found, front) == pytest.approx(1 / 3)
    assert igd(front, front) == igd_plus(front, front) == 0.0


def test_normalise_maps_the_ideal_to_0_and_the_nadir_to_1():
    points = normalise(np.array([[5.0, 100.0], [6.0, 300.0]]), ideal=[5.0, 100.0], nadir=[7.0, 500.0])
    assert points.tolist() == [[0.0, 0.0], [0.5, 0.5]]
