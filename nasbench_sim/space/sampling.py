"""Random cells, mutation and one-edit neighbourhoods, as in the NB101 paper.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.space.sampling import random_cell, mutate, neighbours
    >>> rng = np.random.default_rng(0)
    >>> cell = random_cell(rng)
    >>> child = mutate(cell, rng, mutation_rate=1.0)
    >>> len(neighbours(cell)) > 0
    True
"""

from __future__ import annotations

import numpy as np

from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.cell import INPUT, MAX_VERTICES, OPS, OUTPUT, Cell

_MAX_TRIES = 100_000


def random_cell(rng: np.random.Generator, *, edge_probability: float = 0.5) -> Cell:
    """Sample a valid cell with the NB101 paper's protocol.

    Each of the 21 upper-triangular edges of a 7-vertex DAG is on with
    probability `edge_probability`, each interior op is uniform over `OPS`;
    invalid samples (disconnected, > 9 edges after pruning) are rejected.

    Args:
        rng: the caller's random stream.
        edge_probability: chance that an edge is present.
    """
    n = MAX_VERTICES
    for _ in range(_MAX_TRIES):
        matrix = np.triu(rng.random((n, n)) < edge_probability, 1).astype(np.int8)
        ops = [INPUT, *(OPS[i] for i in rng.integers(0, len(OPS), size=n - 2)), OUTPUT]
        try:
            return Cell(matrix, ops)
        except OutOfDomainError:
            continue
    raise RuntimeError("no valid cell sampled; edge_probability is far from 0.5")


def random_cells(rng: np.random.Generator, count: int) -> list[Cell]:
    """`count` independent `random_cell` draws."""
    return [random_cell(rng) for _ in range(count)]


def _seven_vertex_form(cell: Cell) -> tuple[np.ndarray, list[str]]:
    """The cell as given if it has 7 vertices (dangling vertices kept), else padded."""
    original = cell.original_matrix
    if original.shape[0] == MAX_VERTICES:
        return original.copy(), list(cell.original_ops)
    return cell.padded(MAX_VERTICES)


def mutate(cell: Cell, rng: np.random.Generator, *, mutation_rate: float = 1.0) -> Cell:
    """Mutate like the official notebook's `mutate_spec`, resampling until valid.

    On the 7-vertex (unpruned) form, each of the 21 edges flips with
    probability `mutation_rate / 7` and each of the 5 interior ops is
    resampled to a different op with probability `mutation_rate / 5`.

    Args:
        cell: the parent.
        rng: the caller's random stream.
        mutation_rate: expected number of edge flips and op changes.
    """
    if mutation_rate <= 0:
        raise ValueError(f"mutation_rate must be > 0, got {mutation_rate}")
    base_matrix, base_ops = _seven_vertex_form(cell)
    n = MAX_VERTICES
    edge_p = mutation_rate / n
    op_p = mutation_rate / (n - 2)
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    for _ in range(_MAX_TRIES):
        flips = (rng.random((n, n)) < edge_p) & upper
        matrix = np.where(flips, 1 - base_matrix, base_matrix).astype(np.int8)
        ops = list(base_ops)
        for v in range(1, n - 1):
            if rng.random() < op_p:
                choices = [op for op in OPS if op != ops[v]]
                ops[v] = choices[int(rng.integers(len(choices)))]
        try:
            return Cell(matrix, ops)
        except OutOfDomainError:
            continue
    raise RuntimeError("no valid mutation found")


def neighbours(cell: Cell) -> list[Cell]:
    """All distinct valid cells one edit away (one edge flipped or one op changed).

    Edits apply to the 7-vertex form (see `mutate`), so dangling vertices of a
    sampled cell can be connected. The cell itself and isomorphic duplicates are
    dropped. Deterministic order: edge flips in row-major order, then op changes.
    """
    base_matrix, base_ops = _seven_vertex_form(cell)
    n = base_matrix.shape[0]
    candidates: list[Cell] = []
    for i in range(n - 1):
        for j in range(i + 1, n):
            matrix = base_matrix.copy()
            matrix[i, j] = 1 - matrix[i, j]
            try:
                candidates.append(Cell(matrix, base_ops))
            except OutOfDomainError:
                pass
    for v in range(1, n - 1):
        for op in OPS:
            if op != base_ops[v]:
                ops = list(base_ops)
                ops[v] = op
                try:
                    candidates.append(Cell(base_matrix, ops))
                except OutOfDomainError:
                    pass
    seen = {cell.hash}
    out = []
    for c in candidates:
        if c.hash not in seen:
            seen.add(c.hash)
            out.append(c)
    return out
