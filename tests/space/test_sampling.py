import numpy as np
import pytest

from nasbench_sim.space import Cell, mutate, neighbours, random_cell
from nasbench_sim.space.sampling import random_cells


def test_random_cells_are_valid_and_seeded():
    a = random_cells(np.random.default_rng(3), 50)
    b = random_cells(np.random.default_rng(3), 50)
    c = random_cells(np.random.default_rng(4), 50)
    assert [x.hash for x in a] == [x.hash for x in b]
    assert [x.hash for x in a] != [x.hash for x in c]
    assert all(x.num_vertices <= 7 and x.num_edges <= 9 for x in a)


def test_random_cells_start_from_seven_vertex_originals():
    # NB101 protocol samples 7x7 matrices; pruning happens afterwards.
    cell = random_cell(np.random.default_rng(0))
    assert cell.original_matrix.shape == (7, 7)


def test_mutation_is_seeded_and_changes_the_cell_usually():
    parent = random_cell(np.random.default_rng(0))
    kids = [mutate(parent, np.random.default_rng(s)) for s in range(30)]
    again = [mutate(parent, np.random.default_rng(s)) for s in range(30)]
    assert [k.hash for k in kids] == [k.hash for k in again]
    assert sum(k != parent for k in kids) >= 10


def test_mutation_rate_must_be_positive():
    with pytest.raises(ValueError, match="mutation_rate"):
        mutate(random_cell(np.random.default_rng(0)), np.random.default_rng(0), mutation_rate=0)


def test_neighbours_are_distinct_one_edit_cells():
    # A chain input -> conv -> output padded to 7 vertices: op changes (2) and edge flips that stay valid.
    cell = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    nbrs = neighbours(cell)
    hashes = [n.hash for n in nbrs]
    assert len(hashes) == len(set(hashes)) and cell.hash not in hashes
    ops_changed = [n for n in nbrs if n.num_vertices == 3 and n.matrix.tolist() == cell.matrix.tolist()]
    assert {n.ops[1] for n in ops_changed} == {"conv1x1-bn-relu", "maxpool3x3"}
    # Adding the input->output edge is one edit away.
    assert Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"]) in nbrs
