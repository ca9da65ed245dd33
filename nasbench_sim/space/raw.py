"""Many valid cells as arrays (`CellBatch`): vectorised mutation, encodings and dedup keys.

A `CellBatch` holds each cell's raw form (the unpruned 7-vertex form that
sampling, mutation and naszilla's distance work on) and its pruned compact form
(see `nasbench_sim.space.forms`). Searchers that build candidate pools of
hundreds of mutations per round work on these arrays and turn only the chosen
candidates into `Cell` objects.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.space import Cell
    >>> from nasbench_sim.space.raw import CellBatch, mutate_raw
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> parent = CellBatch.from_cells([cell])
    >>> children = mutate_raw(parent.edges, parent.labels, np.random.default_rng(0), 5)
    >>> len(children), all(children.cell(i).num_edges <= 9 for i in range(5))
    (5, True)
    >>> children.encode("categorical").shape, children.keys("paths").shape
    ((5, 26), (5,))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.cell import NUM_OP_SLOTS, NUM_OPS, Cell
from nasbench_sim.space.dedup import dedup_rule
from nasbench_sim.space.encodings import encoding
from nasbench_sim.space.forms import EDGES, cell_from_raw, prune_raw, raw_forms

_MAX_TRIES = 10_000


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
        """The batch of raw forms: (B,) edges, (B, 5) labels.

        Raises:
            OutOfDomainError: some raw form is not a valid cell.
        """
        valid, num_vertices, bits, pruned = prune_raw(edges, labels)
        if not valid.all():
            raise OutOfDomainError(f"{int((~valid).sum())} of {valid.size} raw forms are not valid NB101 cells")
        return cls(np.asarray(edges, dtype=np.int64), np.asarray(labels, dtype=np.int64), num_vertices, bits, pruned)

    @classmethod
    def from_cells(cls, cells: Sequence[Cell]) -> CellBatch:
        """The batch of cells (their 7-vertex forms as raw forms)."""
        if not cells:
            return cls.empty()
        return cls.from_raw(*raw_forms(cells))

    @classmethod
    def empty(cls) -> CellBatch:
        """A batch of no cells."""
        flat, wide = np.zeros(0, dtype=np.int64), np.zeros((0, NUM_OP_SLOTS), dtype=np.int64)
        return cls(flat, wide, flat, flat, wide)

    def __len__(self) -> int:
        return int(self.edges.size)

    def take(self, index: np.ndarray | list[int]) -> CellBatch:
        """The entries at `index` (repeats allowed), in that order."""
        index = np.asarray(index, dtype=np.int64)
        return CellBatch(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(batches: Sequence[CellBatch]) -> CellBatch:
        """The batches one after another (at least one)."""
        return CellBatch(*(np.concatenate([getattr(b, f.name) for b in batches]) for f in fields(CellBatch)))

    def cell(self, i: int) -> Cell:
        """The `Cell` of entry i (its raw form kept as the cell's given form)."""
        return cell_from_raw(int(self.edges[i]), self.labels[i])

    @property
    def compact(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(num_vertices, bits, pruned_labels): the compact forms."""
        return self.num_vertices, self.bits, self.pruned_labels

    @property
    def raw(self) -> tuple[np.ndarray, np.ndarray]:
        """(edges, labels): the raw forms."""
        return self.edges, self.labels

    def encode(self, name: str) -> np.ndarray:
        """(B, length) encoding `name` of `encodings.ENCODINGS`, the values it gives the cells.

        Raises:
            ConfigError: an unknown encoding.
        """
        return encoding(name).of(self)

    def keys(self, rule: str) -> np.ndarray:
        """(B,) int64 keys of the dedup rule `rule` of `dedup.DEDUP_RULES`, the values it gives the cells.

        Raises:
            ConfigError: an unknown rule.
        """
        return dedup_rule(rule).of_compact(*self.compact)
