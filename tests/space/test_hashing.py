import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.space import OPS, Cell, OutOfDomainError, hash_module, random_cell, random_cells
from nasbench_sim.space.hashing import hash_modules, rank_in_cell

from ..conftest import INCEPTION_HASH, INCEPTION_SPEC, INCEPTION_STORED


def labeling(ops):
    return [-1] + [OPS.index(op) for op in ops[1:-1]] + [-2]


def test_every_golden_hash_reproduced_from_its_own_record(golden):
    # Catches any deviation from the official string/MD5 recipe (e.g. str() of numpy ints, join order).
    for module_hash, record in golden.items():
        assert hash_module(record["module_adjacency"], labeling(record["module_operations"])) == module_hash


def test_inception_example_spec_hashes_to_the_official_value():
    # The official notebook's example: unpruned and stored specs give the same published hash.
    assert Cell(INCEPTION_SPEC["matrix"], INCEPTION_SPEC["ops"]).hash == INCEPTION_HASH
    stored = INCEPTION_STORED
    assert hash_module(stored["module_adjacency"], labeling(stored["module_operations"])) == INCEPTION_HASH


def test_two_vertex_cell_hash_is_a_fixed_value():
    # The smallest cell; a regression anchor independent of ../shared.
    assert Cell([[0, 1], [0, 0]], ["input", "output"]).hash == "043721b9c7fe8c5fad811d47d83132ec"


def random_topological_relabel(cell: Cell, rng: np.random.Generator) -> Cell:
    """Same graph, interior vertices renumbered in another valid topological order."""
    n = cell.num_vertices
    m = cell.matrix
    order, placed = [0], {0}
    while len(order) < n - 1:
        ready = [v for v in range(1, n - 1) if v not in placed and all(u in placed for u in range(n) if m[u, v])]
        v = ready[int(rng.integers(len(ready)))]
        order.append(v)
        placed.add(v)
    order.append(n - 1)
    return Cell(m[np.ix_(order, order)], [cell.ops[i] for i in order])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_hash_is_invariant_under_vertex_permutation(seed):
    rng = np.random.default_rng(seed)
    cell = random_cell(rng)
    assert random_topological_relabel(cell, rng).hash == cell.hash


def test_hash_distinguishes_op_swap_on_asymmetric_graph():
    # Catches labels being ignored: same graph, conv3x3 vs maxpool on the chain vertex.
    m = [[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    a = Cell(m, ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    b = Cell(m, ["input", "maxpool3x3", "conv3x3-bn-relu", "output"])
    assert a.hash != b.hash


def _labelings(cells):
    return np.array([[-1, *c.labels, -2] for c in cells])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40))
def test_vectorised_hashes_equal_the_reference(seed, count):
    # Catches any drift of the vectorised WL rounds from the official strings (neighbour order, separators, rounds).
    cells = random_cells(np.random.default_rng(seed), count)
    for n in {c.num_vertices for c in cells}:
        same = [c for c in cells if c.num_vertices == n]
        fast = hash_modules(np.stack([c.matrix for c in same]), _labelings(same))
        assert [h.decode() for h in fast] == [hash_module(c.matrix, [-1, *c.labels, -2]) for c in same]


def test_vectorised_hash_of_unpruned_and_tiny_graphs():
    # Vertices with no edges at all (degree 0 on both sides) and the 2-vertex cell.
    m = np.array([[0, 1, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]])
    lab = np.array([-1, 2, 0, -2])
    assert hash_modules(m[None], lab[None])[0].decode() == hash_module(m, lab)
    assert hash_modules(np.array([[[0, 1], [0, 0]]]), np.array([[-1, -2]]))[0] == b"043721b9c7fe8c5fad811d47d83132ec"
    assert hash_modules(np.zeros((0, 3, 3)), np.zeros((0, 3))).shape == (0,)


def test_digest_order_falls_back_to_all_128_bits():
    # Catches ordering by the 61-bit sort key alone: two digests equal in their first 61 bits but not after.
    digests = np.zeros((3, 16), dtype=np.uint8)
    digests[:, 0] = 0xAB
    digests[0, 15] = 9  # vertex 0 sorts after vertex 1 although the cheap key ties and vertex 0 comes first
    digests[1, 15] = 3
    digests[2, 0] = 0x01
    expected = sorted(range(3), key=lambda v: digests[v].tobytes())
    assert rank_in_cell(digests, 3).tolist() == [expected]
    digests[0, 7] = 5  # differs within the last 3 bits of the first half only
    digests[1, 7] = 2
    expected = sorted(range(3), key=lambda v: digests[v].tobytes())
    assert rank_in_cell(digests, 3).tolist() == [expected]


def test_vectorised_hash_refuses_more_than_seven_vertices():
    with pytest.raises(OutOfDomainError, match="at most 7"):
        hash_modules(np.zeros((1, 8, 8)), np.zeros((1, 8)))
