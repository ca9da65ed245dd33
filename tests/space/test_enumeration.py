"""The one-off enumeration's pieces: bulk hashing on worker processes, parameter terms."""

import numpy as np

from nasbench_sim.space import INPUT, MAX_VERTICES, OPS, OUTPUT, count_parameters, hash_module
from nasbench_sim.space.enumeration import hash_cells, labelling_parameters


def test_fast_hashing_equals_the_plain_reference_on_stored_cells(space):
    # Catches an optimisation of the enumeration's hashing losing bit-exactness: ~2,500 stored cells of all
    # sizes rehashed through the build's chunked multi-process path and, one by one, with the plain `hash_module`.
    rng = np.random.default_rng(0)
    rows = []
    for n in range(2, MAX_VERTICES + 1):
        of_n = np.flatnonzero(space.num_vertices == n)
        rows += rng.choice(of_n, min(800, of_n.size), replace=False).tolist()
    rows = rng.permutation(rows)  # mixed vertex counts: the chunks' results must land on their own rows
    fast = hash_cells(
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
    fast = labelling_parameters(matrix, labellings)
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
        "from nasbench_sim.space.enumeration import hash_cells\n"
        "n = 2_000_000\n"
        f"nv, bits, labels = np.full(n, 7, np.uint8), np.full(n, {chain}, np.int32), np.zeros((n, 5), np.int8)\n"
        "try:\n"
        "    hash_cells(nv, bits, labels, workers=2, progress=False, chunk=4096)\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(130)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, **popen)


def test_hashing_workers_exit_when_their_parent_is_killed(tmp_path):
    # Catches pool workers that outlive a `kill -9` of their parent (`nasbench-sim data space` hashing).
    from ..conftest import kill_and_list_survivors

    process = _hashing_process(tmp_path)
    try:
        assert kill_and_list_survivors(process, workers=2) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_ctrl_c_while_hashing_stops_at_once_without_a_traceback(tmp_path):
    # Catches Ctrl-C during `data space` printing a traceback from the pool's manager thread (as pool.map
    # cancelling its futures does) or hanging at exit on a queue that feeds the stopped workers.
    import subprocess

    from ..conftest import ctrl_c

    process = _hashing_process(tmp_path, stderr=subprocess.PIPE, start_new_session=True)
    code, err = ctrl_c(process, workers=2)
    assert code == 130 and "Traceback" not in err, err
