"""Random cells, mutation and one-edit neighbourhoods, as in the NB101 paper and naszilla.

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


def seven_vertex_form(cell: Cell) -> tuple[np.ndarray, list[str]]:
    """The cell as given if it has 7 vertices (dangling vertices kept), else padded: ((7, 7) int8, 7 ops).

    Mutation, neighbourhoods and naszilla's distance work on this unpruned form.
    A given form whose dangling vertices carry unknown op names is replaced by the padded one.
    """
    original = cell.original_matrix
    if original.shape[0] == MAX_VERTICES and all(op in OPS for op in cell.original_ops[1:-1]):
        return original.copy(), list(cell.original_ops)
    return cell.padded(MAX_VERTICES)


def mutate(
    cell: Cell,
    rng: np.random.Generator,
    *,
    mutation_rate: float = 1.0,
    edge_probability: float | None = None,
    op_probability: float | None = None,
) -> Cell:
    """Mutate the 7-vertex (unpruned) form of a cell, resampling until valid.

    Each of the 21 possible edges flips with `edge_probability` and each of the
    5 interior ops changes (to one of the two other ops, uniformly) with
    `op_probability`; the first valid result is returned. A child may equal
    its parent (no flip happened, or only dangling parts changed), as in the
    reference implementations.

    The defaults are the official notebook's `mutate_spec`: `mutation_rate / 7`
    per edge and `mutation_rate / 5` per op. naszilla (BANANAS, local search)
    uses `edge_probability=1/21`, `op_probability=1/5`.

    Args:
        cell: the parent.
        rng: the caller's random stream.
        mutation_rate: expected number of edge flips and op changes (notebook style).
        edge_probability: per-edge flip probability (overrides `mutation_rate / 7`).
        op_probability: per-op change probability (overrides `mutation_rate / 5`).
    """
    if mutation_rate <= 0:
        raise ValueError(f"mutation_rate must be > 0, got {mutation_rate}")
    n = MAX_VERTICES
    edge_p = mutation_rate / n if edge_probability is None else edge_probability
    op_p = mutation_rate / (n - 2) if op_probability is None else op_probability
    if not (0 <= edge_p <= 1 and 0 <= op_p <= 1) or edge_p + op_p == 0:
        raise ValueError(f"mutation probabilities must be in [0, 1] and not both 0, got {edge_p}, {op_p}")
    base_matrix, base_ops = seven_vertex_form(cell)
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
    base_matrix, base_ops = seven_vertex_form(cell)
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
