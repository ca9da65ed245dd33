"""Checking the cells an official-format file stores, many at once: pruned NB101 cells with their own hash.

Each record of an NB101 `.tfrecord` stores its cell as an adjacency string and
an op list, beside its official hash. `check_stored_cells` validates a batch of
them with numpy, grouped by vertex count: a square 0/1 strictly
upper-triangular matrix of 2 to 7 vertices, every vertex on an input-to-output
path (the file stores pruned cells), at most 9 edges, 'input' first, 'output'
last, known interior ops, and the official hash (`space.hashing.hash_modules`)
equal to the stored one. It returns each cell's compact form (vertex count,
edge bits, op labels). `stored_cell` checks one cell with `Cell` and names what
is wrong; callers use it for the cells the batch check refuses.

Example:
    >>> from nasbench_sim.bench.stored_cells import check_stored_cells
    >>> spec = b"011001000|input,conv3x3-bn-relu,output"
    >>> num_vertices, bits, labels, ok = check_stored_cells([b"d32d0b26d534203b48d866facd98cc3e"], [spec])
    >>> num_vertices.tolist(), bits.tolist(), labels[0, :1].tolist(), ok.tolist()
    ([3], [7], [0], [True])
    >>> check_stored_cells([b"f" * 32], [spec])[3].tolist()
    [False]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.cell import INPUT, MAX_EDGES, MAX_VERTICES, OPS, OUTPUT, Cell, edge_bit
from nasbench_sim.space.hashing import INPUT_LABEL, OUTPUT_LABEL, hash_modules

_OP_LABELS = {op.encode(): label for label, op in enumerate(OPS)}
_INPUT, _OUTPUT = INPUT.encode(), OUTPUT.encode()


def stored_cell(module_hash: str, adjacency: np.ndarray, ops: list[str]) -> Cell:
    """The cell a row stores, checked: a pruned NB101 cell with this hash.

    Raises:
        ValueError: not a valid stored cell, or the hash does not match (the message says which).
    """
    try:
        cell = Cell(adjacency, ops)
    except OutOfDomainError as exc:
        raise ValueError(f"stored cell of {module_hash} is not an NB101 cell: {exc}") from None
    if cell.num_vertices != adjacency.shape[0]:
        raise ValueError(f"stored cell of {module_hash} is not pruned")
    if cell.hash != module_hash:
        raise ValueError(f"module hash {module_hash!r} does not match its adjacency and ops (they hash to {cell.hash})")
    return cell


def check_stored_cells(
    hashes: Sequence[bytes], specs: Sequence[bytes]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate stored cells and their hashes in one vectorised pass per vertex count.

    Args:
        hashes: C stored hashes (32 lowercase hex ASCII bytes when valid).
        specs: C stored cells, each `adjacency + b"|" + operations` as the file writes them
            (V*V '0'/'1' characters row-major, comma-separated op names).

    Returns:
        (num_vertices, bits, labels, ok): (C,) uint8, (C,) int32 edge bits in
        the official order, (C, 5) int8 interior op labels (-1 past the last),
        and (C,) bool: the cell is valid and its hash is the stored one (the
        other outputs are 0 / -1 where it is not).
    """
    count = len(specs)
    num_vertices = np.zeros(count, dtype=np.uint8)
    bits = np.zeros(count, dtype=np.int32)
    labels = np.full((count, MAX_VERTICES - 2), -1, dtype=np.int8)
    ok = np.zeros(count, dtype=bool)
    groups: dict[int, tuple[list[int], list[bytes], list[list[int]]]] = {}
    for c, spec in enumerate(specs):
        adjacency, _, ops = spec.partition(b"|")
        names = ops.split(b",")
        n = len(names)
        if not 2 <= n <= MAX_VERTICES or len(adjacency) != n * n or names[0] != _INPUT or names[-1] != _OUTPUT:
            continue
        interior = [_OP_LABELS.get(name, -1) for name in names[1:-1]]
        if -1 in interior or len(hashes[c]) != 32:
            continue
        members, matrices, labelings = groups.setdefault(n, ([], [], []))
        members.append(c)
        matrices.append(adjacency)
        labelings.append([INPUT_LABEL, *interior, OUTPUT_LABEL])
    for n, (members, matrices, labelings) in groups.items():
        rows = np.array(members)
        matrix = np.frombuffer(b"".join(matrices), dtype=np.uint8).reshape(-1, n, n) - np.uint8(ord("0"))
        lower_rows, lower_cols = np.tril_indices(n)
        good = (matrix <= 1).all(axis=(1, 2)) & ~matrix[:, lower_rows, lower_cols].any(axis=1)
        edges = matrix.astype(bool)
        forward = np.zeros((rows.size, n), dtype=bool)
        forward[:, 0] = True
        for v in range(n):
            forward |= forward[:, v, None] & edges[:, v, :]
        backward = np.zeros((rows.size, n), dtype=bool)
        backward[:, n - 1] = True
        for v in range(n - 2, -1, -1):
            backward[:, v] = (edges[:, v, :] & backward).any(axis=1)
        good &= forward.all(axis=1) & backward.all(axis=1) & (edges.sum(axis=(1, 2)) <= MAX_EDGES)
        kept = np.flatnonzero(good)
        labeling = np.array(labelings, dtype=np.int64)
        stored = np.array([hashes[c] for c in rows[kept].tolist()], dtype="S32")
        good[kept] = hash_modules(edges[kept], labeling[kept]) == stored
        rows, edges, labeling = rows[good], edges[good], labeling[good]
        ok[rows] = True
        num_vertices[rows] = n
        weights = np.zeros((n, n), dtype=np.int64)
        for j in range(1, n):
            for i in range(j):
                weights[i, j] = 1 << edge_bit(i, j)
        bits[rows] = (edges * weights).sum(axis=(1, 2))
        labels[rows, : n - 2] = labeling[:, 1:-1]
    return num_vertices, bits, labels, ok
