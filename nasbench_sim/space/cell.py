"""The NAS-Bench-101 cell: an immutable, validated, pruned value object.

Example:
    >>> from nasbench_sim.space import Cell
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> cell.num_vertices, cell.num_edges, cell.hash
    (3, 3, 'd32d0b26d534203b48d866facd98cc3e')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.hashing import INPUT_LABEL, OUTPUT_LABEL, hash_module

INPUT = "input"
OUTPUT = "output"
CONV3X3 = "conv3x3-bn-relu"
CONV1X1 = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"
#: The three interior operations, in the official order (their hash labels are 0, 1, 2).
OPS: tuple[str, ...] = (CONV3X3, CONV1X1, MAXPOOL3X3)
OP_INDEX = {op: i for i, op in enumerate(OPS)}
NUM_OPS = len(OPS)
#: Space limits of NAS-Bench-101.
MAX_VERTICES = 7
MAX_EDGES = 9
#: Possible edges (upper triangle) and interior vertices of a 7-vertex cell.
NUM_EDGE_SLOTS = MAX_VERTICES * (MAX_VERTICES - 1) // 2  # 21
NUM_OP_SLOTS = MAX_VERTICES - 2  # 5


def edge_bit(src: int, dst: int) -> int:
    """Bit position of edge src->dst (src < dst) in the official enumeration order."""
    return dst * (dst - 1) // 2 + src


def adjacency_from_bits(num_vertices: int, bits: int) -> np.ndarray:
    """(V, V) int8 upper-triangular adjacency of edge bits (edge i->j at bit `edge_bit(i, j)`), a new array."""
    n = int(num_vertices)
    bits = int(bits)
    matrix = np.zeros((n, n), dtype=np.int8)
    for j in range(1, n):
        for i in range(j):
            if (bits >> edge_bit(i, j)) & 1:
                matrix[i, j] = 1
    return matrix


def _as_rows(matrix: Any) -> list[list[int]]:
    """Nested lists of a square, strictly upper-triangular 0/1 matrix, or OutOfDomainError."""
    try:
        array = np.asarray(matrix)
    except (ValueError, TypeError):  # ragged nesting and the like
        raise OutOfDomainError("matrix must be a square 2-D array of 0/1") from None
    if array.dtype.kind not in "biuf":
        raise OutOfDomainError(f"matrix entries must be 0 or 1, got entries of type {array.dtype}")
    if array.ndim != 2:
        raise OutOfDomainError(f"matrix must be 2-D, got shape {array.shape}")
    rows = array.tolist()
    n = len(rows)
    if n == 0:
        raise OutOfDomainError("matrix is empty")
    for row in rows:
        if len(row) != n:
            raise OutOfDomainError(f"matrix must be square, got a row of length {len(row)} in a {n}-row matrix")
    if not {x for row in rows for x in row} <= {0, 1}:
        i, j, x = next((i, j, x) for i, row in enumerate(rows) for j, x in enumerate(row) if x not in (0, 1))
        raise OutOfDomainError(f"matrix entries must be 0 or 1, got {x!r} at [{i}][{j}]")
    if array.dtype.kind in "bf":
        rows = [[int(x) for x in row] for row in rows]
    for i, row in enumerate(rows):
        if 1 in row[: i + 1]:
            j = row.index(1)
            raise OutOfDomainError(
                f"matrix must be strictly upper triangular (DAG in topological order); entry [{i}][{j}] is 1"
            )
    return rows


def _successor_masks(rows: list[list[int]]) -> list[int]:
    """Per vertex, a bitmask of its successors (bit j set for edge v->j)."""
    n = len(rows)
    masks = []
    for i, row in enumerate(rows):
        mask = 0
        for j in range(i + 1, n):
            if row[j]:
                mask |= 1 << j
        masks.append(mask)
    return masks


def _kept_mask(succ: list[int]) -> int:
    """Bitmask of vertices on some input-to-output path."""
    n = len(succ)
    forward = 1
    for v in range(n):
        if (forward >> v) & 1:
            forward |= succ[v]
    backward = 1 << (n - 1)
    for v in range(n - 2, -1, -1):
        if succ[v] & backward:
            backward |= 1 << v
    return forward & backward


#: _BIT_TABLE[i][mask]: official edge bits of the edges i->j for j in `mask`.
_BIT_TABLE = [
    [
        sum(1 << edge_bit(i, j) for j in range(i + 1, MAX_VERTICES + 1) if (mask >> j) & 1)
        for mask in range(1 << (MAX_VERTICES + 1))
    ]
    for i in range(MAX_VERTICES + 1)
]


class Cell:
    """An NB101 cell: DAG of at most 7 vertices and 9 edges after pruning.

    Built from any adjacency matrix and op list; validated and pruned exactly
    like the official `ModelSpec` + `NASBench._check_spec`. Immutable; equal
    (and hashable) by official module hash, so isomorphic cells are equal.

    Args:
        matrix: (V, V) 0/1 strictly upper-triangular adjacency, V >= 2.
        ops: length V: 'input', interior ops from `OPS`, 'output'.

    Raises:
        OutOfDomainError: the matrix or ops are malformed, the graph is
            disconnected, or the pruned cell has too many vertices/edges or an
            unknown op. The message names the problem.
    """

    __slots__ = ("_bits", "_hash", "_labels", "_matrix", "_ops", "_original_matrix", "_original_ops", "_rows")

    def __init__(self, matrix: Any, ops: Sequence[str]) -> None:
        rows = _as_rows(matrix)
        if isinstance(ops, (str, bytes)):
            raise OutOfDomainError("ops must be a sequence of op names, not a single string")
        try:
            ops = tuple(ops)
        except TypeError:
            raise OutOfDomainError(f"ops must be a sequence of op names, got {type(ops).__name__}") from None
        n = len(rows)
        if len(ops) != n:
            raise OutOfDomainError(f"ops has {len(ops)} entries but the matrix has {n} vertices")
        original = tuple(map(tuple, rows))
        succ = _successor_masks(rows)
        kept_mask = _kept_mask(succ) if n >= 2 else 0
        if kept_mask != (1 << n) - 1:
            kept = [v for v in range(n) if (kept_mask >> v) & 1]
            if len(kept) < 2:
                raise OutOfDomainError("invalid cell: the graph is disconnected (no path from input to output)")
            rows = [[rows[i][j] for j in kept] for i in kept]
            pruned_ops = tuple(ops[i] for i in kept)
            succ = _successor_masks(rows)
        else:
            pruned_ops = ops
        m = len(rows)
        if m > MAX_VERTICES:
            raise OutOfDomainError(f"too many vertices: {m} after pruning (max {MAX_VERTICES})")
        bits = 0
        if m <= MAX_VERTICES:
            for i in range(m - 1):
                bits |= _BIT_TABLE[i][succ[i]]
        num_edges = bits.bit_count()
        if num_edges > MAX_EDGES:
            raise OutOfDomainError(f"too many edges: {num_edges} after pruning (max {MAX_EDGES})")
        if pruned_ops[0] != INPUT:
            raise OutOfDomainError(f"first op must be 'input', got {pruned_ops[0]!r}")
        if pruned_ops[-1] != OUTPUT:
            raise OutOfDomainError(f"last op must be 'output', got {pruned_ops[-1]!r}")
        try:
            labels = tuple(OP_INDEX[op] for op in pruned_ops[1:-1])
        except (KeyError, TypeError):  # TypeError: an unhashable op such as a list
            bad = next(op for op in pruned_ops[1:-1] if not isinstance(op, str) or op not in OP_INDEX)
            raise OutOfDomainError(f"unknown op {bad!r} (choices: {', '.join(OPS)})") from None
        self._original_matrix = original
        self._original_ops = ops
        self._rows = rows
        self._ops = pruned_ops
        self._bits = bits
        self._labels = labels
        self._hash: str | None = None
        self._matrix: np.ndarray | None = None

    @classmethod
    def from_labels(cls, num_vertices: int, bits: int, labels: Sequence[int]) -> Cell:
        """Build from the compact form: vertex count, edge bits (official order), interior op indices."""
        rows = adjacency_from_bits(num_vertices, bits).tolist()
        return cls(rows, (INPUT, *(OPS[int(x)] for x in labels), OUTPUT))

    # --- the pruned cell -------------------------------------------------
    @property
    def matrix(self) -> np.ndarray:
        """(V, V) int8 pruned adjacency, read-only."""
        if self._matrix is None:
            m = np.array(self._rows, dtype=np.int8)
            m.flags.writeable = False
            self._matrix = m
        return self._matrix

    @property
    def ops(self) -> tuple[str, ...]:
        """Pruned op names, length V ('input' first, 'output' last)."""
        return self._ops

    @property
    def labels(self) -> tuple[int, ...]:
        """Interior op indices into `OPS`, length V - 2."""
        return self._labels

    @property
    def bits(self) -> int:
        """Pruned edges as an int, edge i->j at bit j*(j-1)/2 + i (the official generator's order)."""
        return self._bits

    @property
    def num_vertices(self) -> int:
        return len(self._ops)

    @property
    def num_edges(self) -> int:
        return int(self._bits.bit_count())

    @property
    def hash(self) -> str:
        """Official 32-hex module hash (computed once, ~0.2 ms)."""
        if self._hash is None:
            self._hash = hash_module(self._rows, (INPUT_LABEL, *self._labels, OUTPUT_LABEL))
        return self._hash

    # --- the cell as given -----------------------------------------------
    @property
    def original_matrix(self) -> np.ndarray:
        """The adjacency as given, before pruning (a read-only int8 copy)."""
        m = np.array(self._original_matrix, dtype=np.int8)
        m.flags.writeable = False
        return m

    @property
    def original_ops(self) -> tuple[str, ...]:
        """The ops as given, before pruning."""
        return self._original_ops

    def padded(self, num_vertices: int = MAX_VERTICES) -> tuple[np.ndarray, list[str]]:
        """The pruned cell padded to `num_vertices` with isolated vertices before the output.

        Padding vertices get op `CONV3X3` and no edges, so they are pruned
        again; used by encodings and mutation that need a fixed size.

        Returns:
            ((num_vertices, num_vertices) int8 matrix, list of num_vertices op names).
        """
        n = self.num_vertices
        pad = num_vertices - n
        if pad < 0:
            raise OutOfDomainError(f"cannot pad a {n}-vertex cell to {num_vertices} vertices")
        m = np.zeros((num_vertices, num_vertices), dtype=np.int8)
        m[: n - 1, : n - 1] = self.matrix[:-1, :-1]
        m[: n - 1, -1] = self.matrix[:-1, -1]
        ops = [*self._ops[:-1], *([CONV3X3] * pad), OUTPUT]
        return m, ops

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cell):
            return NotImplemented
        if self._bits == other._bits and self._labels == other._labels and len(self._ops) == len(other._ops):
            return True
        return self.hash == other.hash

    def __hash__(self) -> int:
        return hash(self.hash)

    def __repr__(self) -> str:
        return f"Cell(matrix={self._rows!r}, ops={list(self._ops)!r})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # The form as given: mutation works on it, so a pickled and restored searcher mutates alike.
        return (Cell, (self._original_matrix, self._original_ops))


def checked_cells(cells: Iterable[Any]) -> list[Cell]:
    """`cells` as a list if every item is a `Cell`.

    Raises:
        OutOfDomainError: naming the first item that is not a Cell.
    """
    items = list(cells)
    bad = next((c for c in items if not isinstance(c, Cell)), None)
    if bad is not None or any(c is None for c in items):
        raise OutOfDomainError(f"expected Cells (or an array of rows), got {bad!r:.60}")
    return items
