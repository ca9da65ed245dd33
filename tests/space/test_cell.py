import pickle

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

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


# --- property tests: every input either builds a valid cell or raises OutOfDomainError -------------
#: Valid dtypes first and last, the others in the middle (hypothesis favours the ends of a list).
_DTYPES = (np.int64, np.int8, np.uint8, np.bool_, np.complex128, object, np.str_, np.float32, np.float64, np.int64)
_ENTRIES = st.sampled_from([0, 1, 2, -1, 0.5, 1.0, float("nan"), float("inf"), True, "1", None])


@st.composite
def _matrices(draw):
    """Mostly n x n DAGs of 0/1 (so that many cells are valid), else any shape, entries, dtype or nesting."""
    n = draw(st.integers(0, 9))
    kind = draw(st.sampled_from(["dag"] * 4 + ["square01", "any", "ragged", "deep", "scalar"] + ["dag"] * 4))
    if kind == "scalar":
        return draw(st.sampled_from([0, 1, 2.5, None, "[[0, 1], [0, 0]]", b"\x00"]))
    if kind == "ragged":
        return [draw(st.lists(st.integers(0, 1), max_size=9)) for _ in range(n)]
    if kind == "deep":
        return [[[draw(st.integers(0, 1))] * n] * n] * draw(st.integers(1, 3))
    cols = n if kind != "any" or draw(st.booleans()) else draw(st.integers(0, 9))
    density = draw(st.floats(0.2, 1.0))
    rows = []
    for i in range(n):
        if kind == "any":
            rows.append([draw(_ENTRIES) for _ in range(cols)])
        else:
            bits = draw(st.lists(st.floats(0, 1), min_size=cols, max_size=cols))
            rows.append([int(b < density and (kind == "square01" or j > i)) for j, b in enumerate(bits)])
    try:
        array = np.array(rows, dtype=draw(st.sampled_from(_DTYPES)))
    except (ValueError, TypeError, OverflowError):  # e.g. nan as int: keep the nested lists
        return rows
    return draw(st.sampled_from([array, array.tolist(), tuple(map(tuple, array.tolist()))]))


@st.composite
def _ops(draw, length):
    """Op lists of about the right length: mostly input, interior ops, output; sometimes anything."""
    if draw(st.integers(0, 30)) == 15:
        return draw(st.sampled_from([None, 7, "input,output", b"input"]))
    junk = st.sampled_from(["input", "output", "conv5x5", "", 3, None, ["x"]])
    size = length if draw(st.integers(0, 9)) != 5 else draw(st.integers(0, 10))
    ops = [draw(junk if draw(st.integers(0, 19)) == 9 else st.sampled_from([C3, C1, MP])) for _ in range(size)]
    if ops and draw(st.integers(0, 9)) != 5:
        ops[0] = "input"
    if ops and draw(st.integers(0, 9)) != 5:
        ops[-1] = "output"
    return draw(st.sampled_from([ops, tuple(ops)]))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_matrix_and_ops_build_a_valid_cell_or_raise_out_of_domain_error(space, data):
    # Catches any other exception (TypeError, IndexError, ValueError from numpy, ...) escaping Cell,
    # and a cell accepted although it breaks a limit of the space.
    matrix = data.draw(_matrices(), label="matrix")
    ops = data.draw(_ops(len(matrix) if hasattr(matrix, "__len__") else 0), label="ops")
    try:
        cell = Cell(matrix, ops)
    except OutOfDomainError:
        event("refused")
        return
    event("valid cell")
    assert 2 <= cell.num_vertices <= 7 and cell.num_edges <= 9
    assert cell.ops[0] == "input" and cell.ops[-1] == "output" and set(cell.ops[1:-1]) <= {C3, C1, MP}
    assert cell.matrix.shape == (cell.num_vertices,) * 2 and not np.tril(cell.matrix).any()
    # The hash is that of the cell's canonical stored form in the space, and of its own pruned form.
    row = space.index(cell)
    assert cell.hash == space.hashes[row].decode() == space.cell(row).hash
    assert Cell(cell.matrix, cell.ops).hash == cell.hash
    assert Cell.from_labels(cell.num_vertices, cell.bits, cell.labels).hash == cell.hash


def test_a_pickled_cell_keeps_the_form_it_was_given():
    # Catches pickling only the pruned form: a restored searcher then mutated a different 7-vertex form
    # (found by check_searcher's resume rule).
    matrix = [[0, 1, 1, 0, 0, 0, 0]] + [[0] * 7 for _ in range(6)]
    matrix[1][6] = 1
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "conv1x1-bn-relu", "conv1x1-bn-relu", "output"]
    cell = Cell(matrix, ops)
    copy = pickle.loads(pickle.dumps(cell))
    assert copy == cell
    assert copy.original_matrix.tolist() == cell.original_matrix.tolist() and copy.original_ops == cell.original_ops
