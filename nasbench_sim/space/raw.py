"""Many unpruned 7-vertex cells at once, as integer arrays: mutation, pruning and keys, vectorised.

A *raw form* is the unpruned 7-vertex representation that sampling, mutation
and naszilla's distance work on (see `sampling.seven_vertex_form`):

- `edges`: (B,) int64, edge i->j (i < j) at bit `cell.edge_bit(i, j)` (the official order);
- `labels`: (B, 5) int64 op index (into `OPS`) of vertices 1..5, used or not.

Searchers that build candidate pools of hundreds of mutations per round work on
these arrays and turn only the chosen candidates into `Cell` objects.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.space import Cell
    >>> from nasbench_sim.space.raw import raw_form, mutate_raw, prune_raw, cell_from_raw
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> children = mutate_raw(*raw_form(cell), np.random.default_rng(0), 5)
    >>> bool(prune_raw(children.edges, children.labels)[0].all()), len(children)
    (True, 5)
    >>> all(children.cell(i).num_edges <= 9 for i in range(5))
    True
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.cell import INPUT, MAX_EDGES, MAX_VERTICES, OPS, OUTPUT, Cell, edge_bit
from nasbench_sim.space.encodings import _PATH_OFFSET, NUM_OP_SLOTS, NUM_OPS, PATH_KEY_WEIGHTS, padded_adjacency
from nasbench_sim.space.sampling import seven_vertex_form

N = MAX_VERTICES
#: (i, j, bit) of the 21 possible edges, in bit order.
EDGES = [(i, j, edge_bit(i, j)) for j in range(1, N) for i in range(j)]
_MAX_TRIES = 10_000


def raw_form(cell: Cell) -> tuple[np.ndarray, np.ndarray]:
    """(edges (1,), labels (1, 5)) of one cell's 7-vertex form."""
    matrix, ops = seven_vertex_form(cell)
    edges = sum(1 << bit for i, j, bit in EDGES if matrix[i, j])
    return np.array([edges], dtype=np.int64), np.array([[OPS.index(op) for op in ops[1:-1]]], dtype=np.int64)


def cell_from_raw(edges: int, labels: np.ndarray) -> Cell:
    """The `Cell` of one raw form (raises OutOfDomainError if it is invalid)."""
    matrix = np.zeros((N, N), dtype=np.int8)
    for i, j, bit in EDGES:
        if (int(edges) >> bit) & 1:
            matrix[i, j] = 1
    return Cell(matrix, [INPUT, *(OPS[int(k)] for k in labels), OUTPUT])


def prune_raw(edges: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prune raw forms like the official `ModelSpec` and check them like `NASBench.is_valid`.

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


def mutate_raw(
    edges: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    count: int,
    *,
    edge_probability: float = 1 / 21,
    op_probability: float = 1 / 5,
) -> CellBatch:
    """`count` valid mutations of each of P raw forms (`edges` (P,), `labels` (P, 5)), vectorised.

    Each edge flips with `edge_probability`, each op changes to one of the two
    others with `op_probability`; invalid children are redrawn, so each child
    follows the retry-until-valid distribution of `sampling.mutate`.

    Returns:
        The P * count children, parent by parent.

    Raises:
        RuntimeError: no valid child in many tries (probabilities far too small or large).
    """
    edges = np.asarray(edges, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    total = edges.size * count
    parent = np.repeat(np.arange(edges.size), count)
    out = {name: None for name in ("edges", "labels", "num_vertices", "bits", "pruned_labels")}
    todo = np.arange(total)
    weights = np.array([1 << bit for _, _, bit in EDGES], dtype=np.int64)
    for _ in range(_MAX_TRIES):
        k = todo.size
        flips = (rng.random((k, len(EDGES))) < edge_probability) @ weights
        change = rng.random((k, NUM_OP_SLOTS)) < op_probability
        shift = rng.integers(1, NUM_OPS, size=(k, NUM_OP_SLOTS))
        child_edges = np.bitwise_xor(edges[parent[todo]], flips)
        base = labels[parent[todo]]
        child_labels = np.where(change, (base + shift) % NUM_OPS, base)
        valid, num_vertices, bits, pruned = prune_raw(child_edges, child_labels)
        done = todo[valid]
        for name, values in zip(out, (child_edges, child_labels, num_vertices, bits, pruned), strict=True):
            if out[name] is None:
                out[name] = np.zeros((total, *values.shape[1:]), dtype=np.int64)
            out[name][done] = values[valid]
        todo = todo[~valid]
        if todo.size == 0:
            return CellBatch(**out)
    raise RuntimeError("no valid mutation found")


def path_key_hash(num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(B,) int64 hash of each pruned cell's multiset of input-to-output op paths (naszilla's identity).

    The same values as `encodings.path_key` (a fixed random linear hash of the path counts).
    """
    adj = padded_adjacency(num_vertices, bits).astype(bool)
    labels = np.asarray(labels, dtype=np.int64)
    b = adj.shape[0]
    key = np.zeros(b, dtype=np.int64)
    # Paths through any increasing subset of the interior slots 1..5 that exists.
    for mask in range(1 << (N - 2)):
        walk = [0, *[v + 1 for v in range(N - 2) if (mask >> v) & 1], N - 1]
        exists = np.ones(b, dtype=bool)
        for a, c in itertools.pairwise(walk):
            exists &= adj[:, a, c]
        code = np.zeros(b, dtype=np.int64)
        for v in walk[1:-1]:
            code = code * NUM_OPS + np.maximum(labels[:, v - 1], 0)
        index = _PATH_OFFSET[len(walk) - 2] + code
        key += np.where(exists, PATH_KEY_WEIGHTS[index], 0)  # wraps modulo 2**64: fine for a hash
    return key


def raw_categorical_from_raw(edges: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(B, 26) int64: the 21 edge indicators (row-major, as `encodings.categorical`) and 5 op indices."""
    edges = np.asarray(edges, dtype=np.int64)
    columns = [(edges >> bit) & 1 for _, _, bit in sorted(EDGES)]
    return np.column_stack([*columns, np.asarray(labels, dtype=np.int64)])


@dataclass(frozen=True)
class CellBatch:
    """Valid cells as arrays: raw forms plus their pruned compact forms (see the module docstring).

    Attributes:
        edges, labels: raw forms, (B,) and (B, 5).
        num_vertices, bits, pruned_labels: pruned compact forms, as `CellSpace` stores cells.
    """

    edges: np.ndarray
    labels: np.ndarray
    num_vertices: np.ndarray
    bits: np.ndarray
    pruned_labels: np.ndarray

    @classmethod
    def from_raw(cls, edges: np.ndarray, labels: np.ndarray) -> CellBatch:
        """Raises OutOfDomainError if any raw form is invalid."""
        valid, num_vertices, bits, pruned = prune_raw(edges, labels)
        if not valid.all():
            raise OutOfDomainError(f"{int((~valid).sum())} of {valid.size} raw forms are not valid NB101 cells")
        return cls(np.asarray(edges, dtype=np.int64), np.asarray(labels, dtype=np.int64), num_vertices, bits, pruned)

    @classmethod
    def from_cells(cls, cells: Sequence[Cell]) -> CellBatch:
        if not cells:
            return cls.empty()
        forms = [raw_form(c) for c in cells]
        return cls.from_raw(np.concatenate([f[0] for f in forms]), np.concatenate([f[1] for f in forms]))

    @classmethod
    def empty(cls) -> CellBatch:
        flat, wide = np.zeros(0, dtype=np.int64), np.zeros((0, NUM_OP_SLOTS), dtype=np.int64)
        return cls(flat, wide, flat, flat, wide)

    def __len__(self) -> int:
        return int(self.edges.size)

    def take(self, index: np.ndarray | list[int]) -> CellBatch:
        index = np.asarray(index, dtype=np.int64)
        return CellBatch(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(batches: Sequence[CellBatch]) -> CellBatch:
        return CellBatch(*(np.concatenate([getattr(b, f.name) for b in batches]) for f in fields(CellBatch)))

    def cell(self, i: int) -> Cell:
        """The `Cell` of entry i (its raw form kept as the cell's given form)."""
        return cell_from_raw(int(self.edges[i]), self.labels[i])

    @property
    def compact(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.num_vertices, self.bits, self.pruned_labels

    def encode(self, name: str) -> np.ndarray:
        """The encoding `name` of `encodings.ENCODINGS` (same values as for the cells), vectorised."""
        from nasbench_sim.space import encodings as enc

        if name == "raw_categorical":
            return raw_categorical_from_raw(self.edges, self.labels)
        if name == "adjacency":
            return enc.adjacency_onehot_compact(*self.compact)
        if name == "path":
            return enc.path_encoding_compact(*self.compact)
        if name == "truncated_path":
            return enc.path_encoding_compact(*self.compact)[:, : enc.TRUNCATED_PATH_LENGTH]
        if name == "categorical":
            return enc.categorical_compact(*self.compact)
        raise OutOfDomainError(f"unknown encoding {name!r} (choices: {', '.join(enc.ENCODINGS)})")

    def keys(self, rule: str) -> np.ndarray:
        """(B,) dedup keys: 'paths' -> `path_key_hash`; 'cell' -> the row in the cell space."""
        if rule == "paths":
            return path_key_hash(*self.compact)
        if rule == "cell":
            from nasbench_sim.space.enumeration import CellSpace

            return CellSpace.load_or_build().indices_from_compact(*self.compact)
        raise OutOfDomainError(f"unknown dedup rule {rule!r} (choices: cell, paths)")
