import pickle

import numpy as np
import pytest

from nasbench_sim.space import Cell, OutOfDomainError

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"


def test_pruning_removes_a_vertex_with_no_path_to_output():
    # Vertex 2 has an in-edge but no out-edge: the official ModelSpec drops it.
    cell = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], ["input", C3, MP, "output"])
    assert cell.num_vertices == 3
    assert cell.ops == ("input", C3, "output")
    assert cell.matrix.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert cell.original_matrix.shape == (4, 4)


def test_eight_vertices_that_prune_to_seven_are_valid_like_the_official_api():
    # The vertex limit applies after pruning (official _check_spec order): vertex 1 dangles.
    m = np.zeros((8, 8), dtype=int)
    m[0, 1] = 1
    for i in (0, 2, 3, 4, 5, 6):
        m[i, i + 1 if i else 2] = 1
    cell = Cell(m, ["input", MP, *[C3] * 5, "output"])
    assert cell.num_vertices == 7 and MP not in cell.ops


@pytest.mark.parametrize(
    ("matrix", "ops", "message"),
    [
        ([[0, 1], [0, 0], [0, 0]], ["input", "output"], "square"),  # catches a non-square matrix
        ([[0, 1], [1, 0]], ["input", "output"], "upper triangular"),  # catches a cycle / back edge
        ([[0, 2], [0, 0]], ["input", "output"], "0 or 1"),  # catches weighted entries
        ([[0, 0], [0, 0]], ["input", "output"], "disconnected"),  # catches no input-output path
        ([[0, 1], [0, 0]], ["input"], "ops has 1"),  # catches ops/matrix length mismatch
        ([[0, 1], [0, 0]], ["output", "input"], "first op"),  # catches swapped endpoints
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], "unknown op"),  # catches unknown ops
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "input"], "last op"),
    ],
)
def test_invalid_cells_raise_a_named_error(matrix, ops, message):
    with pytest.raises(OutOfDomainError, match=message):
        Cell(matrix, ops)


def test_too_many_edges_after_pruning():
    # 7 vertices, every forward edge: 21 edges > 9.
    m = np.triu(np.ones((7, 7), dtype=int), 1)
    with pytest.raises(OutOfDomainError, match="too many edges: 21"):
        Cell(m, ["input", *[C3] * 5, "output"])


def test_too_many_vertices_after_pruning():
    m = np.zeros((8, 8), dtype=int)
    for i in range(7):
        m[i, i + 1] = 1
    with pytest.raises(OutOfDomainError, match="too many vertices: 8"):
        Cell(m, ["input", *[C3] * 6, "output"])


def test_cell_is_immutable_and_independent_of_the_callers_matrix():
    m = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    cell = Cell(m, ["input", C1, "output"])
    m[0, 1] = 0  # the caller mutates its own array afterwards
    assert cell.matrix[0, 1] == 1
    assert cell.original_matrix[0, 1] == 1
    with pytest.raises(ValueError):
        cell.matrix[0, 1] = 0


def test_isomorphic_cells_are_equal_and_hash_alike():
    a = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C3, MP, "output"])
    b = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", MP, C3, "output"])
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1


def test_cell_pickles_for_worker_processes():
    cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", MP, "output"])
    assert pickle.loads(pickle.dumps(cell)) == cell


def test_from_labels_round_trip():
    cell = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C1, MP, "output"])
    again = Cell.from_labels(cell.num_vertices, cell.bits, cell.labels)
    assert again.matrix.tolist() == cell.matrix.tolist() and again.ops == cell.ops


def test_padded_keeps_output_last_and_prunes_back():
    cell = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C1, "output"])
    matrix, ops = cell.padded(7)
    assert matrix.shape == (7, 7) and ops[-1] == "output" and matrix[1, 6] == 1
    assert Cell(matrix, ops) == cell
