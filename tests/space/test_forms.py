"""Array forms of cells (`nasbench_sim.space.forms`): vectorised pruning equals `Cell`'s."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space import Cell
from nasbench_sim.space.cell import edge_bit
from nasbench_sim.space.forms import EDGES, cell_from_raw, compact, prune_raw, raw_forms
from nasbench_sim.space.sampling import random_cells


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**21 - 1), st.lists(st.integers(0, 2), min_size=5, max_size=5))
def test_prune_raw_equals_pruning_one_cell(edges, labels):
    # Catches the vectorised pruning keeping other vertices, or validating otherwise, than `Cell`.
    valid, num_vertices, bits, pruned = prune_raw(np.array([edges]), np.array([labels]))
    try:
        cell = cell_from_raw(edges, np.array(labels))
    except OutOfDomainError:
        assert not valid[0]
        return
    assert valid[0]
    expected = compact([cell])
    assert [num_vertices.tolist(), bits.tolist(), pruned.tolist()] == [a.tolist() for a in expected]


def test_raw_forms_round_trip_the_given_seven_vertex_form():
    cells = random_cells(np.random.default_rng(0), 50)
    edges, labels = raw_forms(cells)
    for cell, e, lab in zip(cells, edges.tolist(), labels, strict=True):
        again = cell_from_raw(e, lab)
        assert again == cell and np.array_equal(again.original_matrix, cell.original_matrix)
    assert len(EDGES) == 21 and raw_forms([])[0].shape == (0,)


def test_a_small_cell_is_padded_before_the_output():
    cell = Cell([[0, 1], [0, 0]], ["input", "output"])
    edges, labels = raw_forms([cell])
    assert edges.tolist() == [1 << edge_bit(0, 6)] and labels.tolist() == [[0] * 5]  # padding: conv3x3, no edges
