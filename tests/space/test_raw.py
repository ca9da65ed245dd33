"""Cells as arrays in bulk (`nasbench_sim.space.raw`): the same encodings and dedup keys as cell by cell."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.errors import ConfigError
from nasbench_sim.space import Cell
from nasbench_sim.space.dedup import DEDUP_RULES, dedup_rule
from nasbench_sim.space.encodings import ENCODINGS, encoding
from nasbench_sim.space.raw import CellBatch, mutate_raw
from nasbench_sim.space.sampling import random_cells


def _mixed_cells(seed: int) -> list[Cell]:
    """Random cells, mutations of them (dangling vertices kept) and the same cells given pruned."""
    rng = np.random.default_rng(seed)
    parents = CellBatch.from_cells(random_cells(rng, 3))
    children = mutate_raw(parents.edges, parents.labels, rng, 4)
    cells = [children.cell(i) for i in range(len(children))] + [parents.cell(i) for i in range(len(parents))]
    return cells + [Cell(c.matrix, c.ops) for c in cells]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_every_encoding_is_the_same_per_cell_and_in_bulk(seed):
    # Catches the bulk path (a batch's arrays) and the per-cell path (a list of cells) of an encoding disagreeing.
    cells = _mixed_cells(seed)
    batch = CellBatch.from_cells(cells)
    mutated = mutate_raw(batch.edges[:2], batch.labels[:2], np.random.default_rng(seed), 3)
    for name, spec in ENCODINGS.items():
        for cases, arrays in ((cells, batch), ([mutated.cell(i) for i in range(len(mutated))], mutated)):
            bulk, per_cell = arrays.encode(name), spec(cases)
            assert bulk.shape == per_cell.shape == (len(cases), spec.length), name
            assert bulk.dtype == per_cell.dtype == spec.dtype, name
            assert np.array_equal(bulk, per_cell), name


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_every_dedup_rule_gives_the_same_keys_per_cell_and_in_bulk(space, seed):
    cells = _mixed_cells(seed)
    batch = CellBatch.from_cells(cells)
    for name, rule in DEDUP_RULES.items():
        assert batch.keys(name).tolist() == [rule.of_cell(c) for c in cells], name


def test_path_keys_merge_only_cells_with_the_same_paths():
    # Catches path keys that collide: cells that share a key must have the same op paths.
    from nasbench_sim.space.encodings import path_encoding

    cells = random_cells(np.random.default_rng(3), 300)
    keys = CellBatch.from_cells(cells).keys("paths").tolist()
    paths = [tuple(row) for row in path_encoding(cells).astype(int).tolist()]
    assert len(set(keys)) == len(set(zip(keys, paths, strict=True)))


def test_unknown_encoding_and_rule_name_the_choices():
    batch = CellBatch.from_cells(random_cells(np.random.default_rng(0), 2))
    with pytest.raises(ConfigError, match=r"unknown encoding 'bogus'.*truncated_path"):
        batch.encode("bogus")
    with pytest.raises(ConfigError, match=r"unknown dedup rule 'bogus'.*paths"):
        batch.keys("bogus")
    with pytest.raises(ConfigError, match="unknown encoding"):
        encoding("bogus")
    with pytest.raises(ConfigError, match="unknown dedup rule"):
        dedup_rule("bogus")


def test_an_empty_batch_encodes_to_no_rows():
    for name, spec in ENCODINGS.items():
        assert CellBatch.from_cells([]).encode(name).shape == (0, spec.length)
