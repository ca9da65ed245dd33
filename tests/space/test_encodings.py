import numpy as np
import pytest

from nasbench_sim.space import Cell, adjacency_onehot, categorical, cell_from_categorical, path_encoding, truncated_path
from nasbench_sim.space.encodings import PATH_LENGTH, path_index
from nasbench_sim.space.sampling import random_cells

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"


def test_path_index_layout():
    # Layout by length then base-3 ops: catches offsets that overlap between lengths.
    assert path_index(()) == 0
    assert [path_index((k,)) for k in range(3)] == [1, 2, 3]
    assert path_index((0, 0)) == 4 and path_index((2, 2, 2)) == 39
    assert path_index((2,) * 5) == PATH_LENGTH - 1 == 363


def test_path_encoding_of_a_hand_made_cell():
    # input -> conv3x3 -> maxpool -> output, plus input -> maxpool: paths (C3, MP) and (MP,).
    cell = Cell([[0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C3, MP, "output"])
    enc = path_encoding([cell])[0]
    assert sorted(np.flatnonzero(enc).tolist()) == sorted([path_index((0, 2)), path_index((2,))])


def test_adjacency_onehot_pads_before_output():
    cell = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C1, "output"])
    enc = adjacency_onehot([cell])[0]
    upper = np.triu_indices(7, 1)
    edges = {(int(i), int(j)) for k, (i, j) in enumerate(zip(*upper, strict=True)) if enc[k]}
    assert edges == {(0, 1), (1, 6)}
    assert enc[21:24].tolist() == [0, 1, 0] and enc[24:].sum() == 0  # padding slots all-zero


def test_shapes_and_categorical_round_trip():
    cells = random_cells(np.random.default_rng(1), 20)
    assert adjacency_onehot(cells).shape == (20, 36)
    assert path_encoding(cells).shape == (20, 364)
    assert truncated_path(cells, 40).shape == (20, 40)
    cat = categorical(cells)
    assert cat.shape == (20, 26)
    assert all(cell_from_categorical(row) == cell for row, cell in zip(cat, cells, strict=True))


def test_bad_categorical_vector():
    with pytest.raises(ValueError, match="length 26"):
        cell_from_categorical([0] * 25)


def test_vectorised_path_encoding_equals_explicit_path_walk():
    # Catches the subset-based vectorisation disagreeing with a DFS over the pruned graph.
    from nasbench_sim.space.encodings import cell_paths

    for cell in random_cells(np.random.default_rng(11), 200):
        expected = np.zeros(PATH_LENGTH, dtype=np.float32)
        for path in cell_paths(cell):
            expected[path_index(path)] = 1.0
        assert np.array_equal(path_encoding([cell])[0], expected)


def test_compact_encodings_of_the_whole_space_rows(space):
    # Catches an encoding of the stored compact rows (int8 labels, uint8 vertices) differing from the cells'.
    from nasbench_sim.space.encodings import ENCODINGS

    rows = np.arange(0, len(space), 4243)
    cells = [space.cell(int(r)) for r in rows]
    for name, spec in ENCODINGS.items():
        if spec.form == "compact":
            got = spec.function(space.num_vertices[rows], space.bits[rows], space.labels[rows])
            assert np.array_equal(got, spec(cells)), name
