"""Cells as integer arrays: the compact (pruned) and the raw (unpruned 7-vertex) form of many cells.

- *compact form*, as `CellSpace` stores cells: `num_vertices` (B,) after pruning,
  `bits` (B,) the pruned edges (edge i->j at bit `cell.edge_bit(i, j)`, see `Cell.bits`),
  `labels` (B, 5) the interior op indices into `OPS`, -1 past the last vertex;
- *raw form*, what sampling, mutation and naszilla's distance work on (see
  `sampling.seven_vertex_form`): `edges` (B,) the unpruned 7-vertex edges (same bit
  order), `labels` (B, 5) the op index of vertices 1..5, used or not.

`prune_raw` turns raw forms into compact ones as `Cell` prunes one cell, vectorised.
Encodings and dedup keys are defined on these arrays (`encodings`, `dedup`); `CellForms`
(the forms of a list of `Cell`s) and `raw.CellBatch` (arrays from the start) hand them over.

Example:
    >>> from nasbench_sim.space import Cell
    >>> from nasbench_sim.space.forms import compact, prune_raw, raw_forms
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    >>> edges, labels = raw_forms([cell])
    >>> valid, num_vertices, bits, pruned = prune_raw(edges, labels)
    >>> bool(valid[0]), int(num_vertices[0]), int(bits[0]), pruned[0].tolist()
    (True, 3, 7, [2, -1, -1, -1, -1])
    >>> [a.tolist() for a in compact([cell])]
    [[3], [7], [[2, -1, -1, -1, -1]]]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Protocol

import numpy as np

from nasbench_sim.space.cell import INPUT, MAX_EDGES, MAX_VERTICES, NUM_OP_SLOTS, OP_INDEX, OPS, OUTPUT, Cell, edge_bit
from nasbench_sim.space.sampling import seven_vertex_form

N = MAX_VERTICES
#: (i, j, bit) of the 21 possible edges, in bit order.
EDGES = [(i, j, edge_bit(i, j)) for j in range(1, N) for i in range(j)]


class CellArrays(Protocol):
    """Many cells in both array forms (see the module docstring)."""

    @property
    def compact(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(num_vertices (B,), bits (B,), labels (B, 5)) of the pruned cells."""
        ...

    @property
    def raw(self) -> tuple[np.ndarray, np.ndarray]:
        """(edges (B,), labels (B, 5)) of the unpruned 7-vertex forms."""
        ...


def compact(cells: Sequence[Cell]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compact form of cells: (B,) int64 vertices, (B,) int64 edge bits, (B, 5) int64 op indices (-1 = none)."""
    nv = np.fromiter((c.num_vertices for c in cells), dtype=np.int64, count=len(cells))
    bits = np.fromiter((c.bits for c in cells), dtype=np.int64, count=len(cells))
    labels = np.full((len(cells), NUM_OP_SLOTS), -1, dtype=np.int64)
    for b, c in enumerate(cells):
        labels[b, : len(c.labels)] = c.labels
    return nv, bits, labels


def raw_forms(cells: Sequence[Cell]) -> tuple[np.ndarray, np.ndarray]:
    """Raw form of cells: (B,) int64 edges and (B, 5) int64 op indices of their 7-vertex forms."""
    edges = np.zeros(len(cells), dtype=np.int64)
    labels = np.zeros((len(cells), NUM_OP_SLOTS), dtype=np.int64)
    for b, cell in enumerate(cells):
        matrix, ops = seven_vertex_form(cell)
        edges[b] = sum(1 << bit for i, j, bit in EDGES if matrix[i, j])
        labels[b] = [OP_INDEX[op] for op in ops[1:-1]]
    return edges, labels


def cell_from_raw(edges: int, labels: np.ndarray) -> Cell:
    """The `Cell` of one raw form (edges, (5,) op indices); raises OutOfDomainError if it is invalid."""
    matrix = np.zeros((N, N), dtype=np.int8)
    for i, j, bit in EDGES:
        if (int(edges) >> bit) & 1:
            matrix[i, j] = 1
    return Cell(matrix, [INPUT, *(OPS[int(k)] for k in labels), OUTPUT])


def prune_raw(edges: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prune raw forms like the official `ModelSpec` and check them like `NASBench.is_valid`.

    Args:
        edges: (B,) raw edges.
        labels: (B, 5) op indices of vertices 1..5.

    Returns:
        (valid (B,) bool, num_vertices (B,), bits (B,) of the pruned matrix in the
        official order, labels (B, 5) of the kept interior vertices, -1 after the last).
    """
    edges = np.asarray(edges, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    succ = np.zeros((N, edges.size), dtype=np.int64)  # successor bitmask of each vertex
    for i, j, bit in EDGES:
        succ[i] |= ((edges >> bit) & 1) << j
    forward = np.ones(edges.size, dtype=np.int64)
    for v in range(N):
        forward |= np.where((forward >> v) & 1 == 1, succ[v], 0)
    backward = np.full(edges.size, 1 << (N - 1), dtype=np.int64)
    for v in range(N - 2, -1, -1):
        backward |= np.where(succ[v] & backward != 0, 1 << v, 0)
    kept = forward & backward
    connected = (kept & 1 == 1) & ((kept >> (N - 1)) & 1 == 1)
    kept = np.where(connected, kept, 0)
    position = np.zeros((N, edges.size), dtype=np.int64)  # new index of each kept vertex
    for v in range(N):
        position[v] = np.bitwise_count(kept & ((1 << v) - 1)).astype(np.int64)
    bits = np.zeros(edges.size, dtype=np.int64)
    for i, j, bit in EDGES:
        on = ((edges >> bit) & 1 == 1) & ((kept >> i) & 1 == 1) & ((kept >> j) & 1 == 1)
        new_bit = position[j] * (position[j] - 1) // 2 + position[i]
        bits |= np.where(on, np.left_shift(1, new_bit), 0)
    num_vertices = np.bitwise_count(kept).astype(np.int64)
    pruned = np.full((edges.size, NUM_OP_SLOTS), -1, dtype=np.int64)
    for v in range(1, N - 1):
        keep = (kept >> v) & 1 == 1
        rows = np.flatnonzero(keep)
        pruned[rows, position[v, rows] - 1] = labels[rows, v - 1]
    valid = connected & (np.bitwise_count(bits) <= MAX_EDGES)
    return valid, num_vertices, bits, pruned


class CellForms:
    """The array forms of a sequence of cells (a `CellArrays`), each computed on first use.

    Args:
        cells: valid cells.
    """

    def __init__(self, cells: Sequence[Cell]) -> None:
        self.cells = cells

    @cached_property
    def compact(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """See `compact`."""
        return compact(self.cells)

    @cached_property
    def raw(self) -> tuple[np.ndarray, np.ndarray]:
        """See `raw_forms`."""
        return raw_forms(self.cells)
