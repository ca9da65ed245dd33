import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.bench.stored_cells import check_stored_cells, stored_cell
from nasbench_sim.space.cell import OPS, Cell
from nasbench_sim.space.sampling import random_cells


def _spec(matrix, ops) -> bytes:
    return "".join(str(int(x)) for row in matrix for x in row).encode() + b"|" + ",".join(ops).encode()


def _reference(module_hash: bytes, spec: bytes):
    """What `stored_cell` (one `Cell` at a time) says of a stored cell: its compact form, or None."""
    adjacency, _, ops = spec.decode("utf-8", "replace").partition("|")
    n = round(len(adjacency) ** 0.5)
    if n * n != len(adjacency) or set(adjacency) - {"0", "1"}:
        return None
    matrix = np.array([int(c) for c in adjacency], dtype=np.int8).reshape(n, n)
    try:
        cell = stored_cell(module_hash.decode("utf-8", "replace"), matrix, ops.split(","))
    except ValueError:
        return None
    return cell.num_vertices, cell.bits, list(cell.labels)


def _assert_equal_to_reference(hashes, specs):
    num_vertices, bits, labels, ok = check_stored_cells(hashes, specs)
    for c, (module_hash, spec) in enumerate(zip(hashes, specs, strict=True)):
        expected = _reference(module_hash, spec)
        assert ok[c] == (expected is not None), spec
        if expected is not None:
            n = expected[0]
            assert (num_vertices[c], bits[c], labels[c, : n - 2].tolist()) == expected
            assert (labels[c, n - 2 :] == -1).all()


def test_valid_stored_cells_give_their_compact_form_and_match_cell():
    cells = random_cells(np.random.default_rng(0), 300)
    hashes = [cell.hash.encode() for cell in cells]
    specs = [_spec(cell.matrix, cell.ops) for cell in cells]
    num_vertices, bits, labels, ok = check_stored_cells(hashes, specs)
    assert ok.all()
    for c, cell in enumerate(cells):
        assert (num_vertices[c], bits[c], tuple(labels[c, : cell.num_vertices - 2])) == (
            cell.num_vertices,
            cell.bits,
            cell.labels,
        )


CELL = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", OPS[0], "output"])


@pytest.mark.parametrize(
    ("name", "module_hash", "spec"),
    [
        ("another cell's hash", b"f" * 32, _spec(CELL.matrix, CELL.ops)),
        ("a hash with a trailing NUL (numpy strips it)", CELL.hash.encode() + b"\0", _spec(CELL.matrix, CELL.ops)),
        ("not pruned: a dangling vertex", None, b"0110000100000000|input,conv3x3-bn-relu,maxpool3x3,output"),
        ("lower triangle", None, b"000100110|input,conv3x3-bn-relu,output"),
        ("a self loop", None, b"110001000|input,conv3x3-bn-relu,output"),
        ("a 2 in the adjacency", None, b"021001000|input,conv3x3-bn-relu,output"),
        ("unknown op", None, b"011001000|input,conv5x5,output"),
        ("output first", None, b"011001000|output,conv3x3-bn-relu,input"),
        ("ops and matrix disagree in size", None, b"011001000|input,output"),
        ("not square", None, b"0110010|input,conv3x3-bn-relu,output"),
        ("8 vertices", None, b"0" * 64 + b"|input," + b"conv3x3-bn-relu," * 6 + b"output"),
        ("one vertex", None, b"0|input"),
    ],
)
def test_invalid_stored_cells_are_refused_like_cell_refuses_them(name, module_hash, spec):
    # Catches the batch check accepting what `Cell` (the record-by-record reader) refuses, or the reverse.
    hashes = [module_hash if module_hash is not None else CELL.hash.encode()]
    assert not check_stored_cells(hashes, [spec])[3][0], name
    _assert_equal_to_reference(hashes, [spec])


def test_ten_edges_are_refused():
    matrix = np.triu(np.ones((7, 7), dtype=np.int8), 1)
    matrix[0, 2:6] = 0  # 21 - 4 = 17 edges: still too many; keep a valid path
    spec = _spec(matrix, ["input", *[OPS[0]] * 5, "output"])
    assert not check_stored_cells([b"0" * 32], [spec])[3][0]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    flips=st.lists(st.integers(0, 200), max_size=3),
)
def test_any_edited_spec_is_judged_as_cell_judges_it(seed, flips):
    cells = random_cells(np.random.default_rng(seed), 4)
    hashes = [cell.hash.encode() for cell in cells]
    specs = [bytearray(_spec(cell.matrix, cell.ops)) for cell in cells]
    for flip in flips:
        spec = specs[flip % 4]
        position = flip % len(spec)
        spec[position] = b"01|,x"[flip % 5] if spec[position] in b"01" else spec[position]
    _assert_equal_to_reference(hashes, [bytes(spec) for spec in specs])
