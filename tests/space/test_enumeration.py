import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.space import (
    INPUT,
    MAX_VERTICES,
    NUM_CELLS,
    OPS,
    OUTPUT,
    Cell,
    OutOfDomainError,
    count_parameters,
    hash_module,
)
from nasbench_sim.space.enumeration import _hash_all, _labelling_parameters

from ..conftest import INCEPTION_HASH, INCEPTION_SPEC, shared_file
from .test_hashing import _random_topological_relabel


def test_space_matches_the_digest(space):
    expected = json.loads(shared_file("nb101", "space_digest.json").read_text())
    digest = space.digest()
    assert digest["num_unique_cells"] == expected["num_unique_cells"] == NUM_CELLS
    assert digest["num_unique_by_num_vertices"] == expected["num_unique_by_num_vertices"]
    assert digest["sorted_hashes_sha256"] == expected["sorted_hashes_sha256"]
    assert [h.decode() for h in space.hashes[:3]] == expected["first_hashes"]


def test_stored_cells_are_the_official_canonical_matrices(space, golden):
    # Catches choosing another isomorphic representative than the official generator's first-found.
    for module_hash, record in golden.items():
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
    relabelled = _random_topological_relabel(cell, np.random.default_rng(seed))
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
    from nasbench_sim.space.enumeration import CellSpace

    again = CellSpace.load(tmp_path / "s")
    assert again.digest() == space.digest()


def test_fast_hashing_equals_the_plain_reference_on_stored_cells(space):
    # Catches an optimisation of the enumeration's hashing losing bit-exactness: ~2,500 stored cells of all
    # sizes rehashed through the build's chunked multi-process path and, one by one, with the plain `hash_module`.
    rng = np.random.default_rng(0)
    rows = []
    for n in range(2, MAX_VERTICES + 1):
        of_n = np.flatnonzero(space.num_vertices == n)
        rows += rng.choice(of_n, min(800, of_n.size), replace=False).tolist()
    rows = rng.permutation(rows)  # mixed vertex counts: the chunks' results must land on their own rows
    fast = _hash_all(
        space.num_vertices[rows], space.bits[rows], space.labels[rows], workers=2, progress=False, chunk=300
    )
    slow = []
    for row in rows.tolist():
        matrix, _ = space.stored_spec(row)
        n = matrix.shape[0]
        slow.append(hash_module(matrix, [-1, *space.labels[row, : n - 2].tolist(), -2]).encode())
    assert fast.tolist() == slow
    assert np.array_equal(fast, space.hashes[rows])


def test_parameters_of_all_labellings_of_a_graph_equal_the_closed_form():
    # Catches the per-graph op terms being indexed with the wrong vertex or op axis.
    from itertools import product

    matrix = np.array([[0, 1, 1, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])
    labellings = np.array(list(product(range(len(OPS)), repeat=3)))
    fast = _labelling_parameters(matrix, labellings)
    slow = [count_parameters(matrix, [INPUT, *(OPS[k] for k in lab), OUTPUT]) for lab in labellings.tolist()]
    assert fast.tolist() == slow and len(set(slow)) > 1  # the ops do change the count


def _hashing_process(tmp_path, **popen):
    """A subprocess running the enumeration's own hashing step on 500 chunks of 7-vertex chains (busy a while)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    chain = sum(1 << ((i + 1) * i // 2 + i) for i in range(6))
    script = (
        "import sys\n"
        "import numpy as np\n"
        "from nasbench_sim.space.enumeration import _hash_all\n"
        "n = 2_000_000\n"
        f"nv, bits, labels = np.full(n, 7, np.uint8), np.full(n, {chain}, np.int32), np.zeros((n, 5), np.int8)\n"
        "try:\n"
        "    _hash_all(nv, bits, labels, workers=2, progress=False, chunk=4096)\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(130)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, **popen)


def test_hashing_workers_exit_when_their_parent_is_killed(tmp_path):
    # Regression: `kill -9` of `nasbench-sim data space` while it hashed left its forked pool workers
    # running for ever.
    from ..conftest import kill_and_list_survivors

    process = _hashing_process(tmp_path)
    try:
        assert kill_and_list_survivors(process, workers=2) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_ctrl_c_while_hashing_stops_at_once_without_a_traceback(tmp_path):
    # Regression: Ctrl-C during `data space` printed an InvalidStateError traceback from the pool's manager
    # thread (pool.map cancels its futures) and then hung at exit on a queue feeding the stopped workers.
    import subprocess

    from ..conftest import ctrl_c

    process = _hashing_process(tmp_path, stderr=subprocess.PIPE, start_new_session=True)
    code, err = ctrl_c(process, workers=2)
    assert code == 130 and "Traceback" not in err, err
