"""The cached cell space: its digest, stored cells and index (`nasbench_sim.space.cellspace`)."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.space import NUM_CELLS, Cell, OutOfDomainError
from nasbench_sim.space.cellspace import CellSpace

from ..conftest import INCEPTION_HASH, INCEPTION_SPEC, INCEPTION_STORED, SHARED, shared_file
from .test_hashing import random_topological_relabel


def test_space_matches_the_digest(space):
    expected = json.loads(shared_file("nb101", "space_digest.json").read_text())
    digest = space.digest()
    assert digest["num_unique_cells"] == expected["num_unique_cells"] == NUM_CELLS
    assert digest["num_unique_by_num_vertices"] == expected["num_unique_by_num_vertices"]
    assert digest["sorted_hashes_sha256"] == expected["sorted_hashes_sha256"]
    assert [h.decode() for h in space.hashes[:3]] == expected["first_hashes"]


@pytest.fixture
def official_records() -> dict:
    """hash -> real record: the 31 golden records in ../shared, or without them the official notebook's
    Inception-like cell, whose stored record is pinned in the conftest."""
    if SHARED is not None and (SHARED / "data" / "nb101" / "golden_records.json").is_file():
        return json.loads((SHARED / "data" / "nb101" / "golden_records.json").read_text())["records"]
    return {INCEPTION_HASH: INCEPTION_STORED}


def test_stored_cells_are_the_official_canonical_matrices(space, official_records):
    # Catches choosing another isomorphic representative than the official generator's first-found.
    for module_hash, record in official_records.items():
        row = space.index_of_hash(module_hash)
        stored = space.cell(row)
        assert stored.matrix.tolist() == record["module_adjacency"]
        assert list(stored.ops) == record["module_operations"]
        assert int(space.trainable_parameters[row]) == record["trainable_parameters"]


def test_index_of_unpruned_example_spec(space):
    cell = Cell(INCEPTION_SPEC["matrix"], INCEPTION_SPEC["ops"])
    assert space.index(cell) == space.index_of_hash(INCEPTION_HASH)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, NUM_CELLS - 1), st.integers(0, 2**32 - 1))
def test_index_finds_the_row_from_any_vertex_order(space, row, seed):
    cell = space.cell(row)
    relabelled = random_topological_relabel(cell, np.random.default_rng(seed))
    assert space.index(relabelled) == row
    assert relabelled.hash == space.hashes[row].decode()


def test_batch_indices_equal_single_lookups(space):
    rows = np.random.default_rng(0).integers(0, NUM_CELLS, 500)
    cells = [space.cell(int(r)) for r in rows]
    assert np.array_equal(space.indices(cells), rows)
    assert [space.index(c) for c in cells] == rows.tolist()


def test_unknown_hash_is_out_of_domain(space):
    with pytest.raises(OutOfDomainError, match="unknown module hash"):
        space.index_of_hash("0" * 32)


def test_cache_round_trip(space, tmp_path):
    space.save(tmp_path / "s")
    again = CellSpace.load(tmp_path / "s")
    assert again.digest() == space.digest()
