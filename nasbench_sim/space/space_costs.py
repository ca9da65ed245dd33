"""Exact costs of every cell of the space at once: FLOPs (and parameters) of the CIFAR-10 NB101 network.

`space_costs(space, "flops")` counts each distinct graph of the space once
with `params.network_terms` (the graph part and the part of each op at each
vertex), then adds up each cell's op terms with numpy: about a second for all
423,624 cells. `space_flops` caches the FLOPs beside the space
(`data/space_flops_v1/`, keyed by the space's hash digest), like the space
itself.

Example:
    >>> from nasbench_sim.space import CellSpace
    >>> from nasbench_sim.space.space_costs import space_flops
    >>> from nasbench_sim.space.params import count_flops
    >>> space = CellSpace.load_or_build(progress=False)
    >>> flops = space_flops(space)
    >>> cell = space.cell(7)
    >>> flops.shape, int(flops[7]) == count_flops(cell.matrix, cell.ops)
    ((423624,), True)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nasbench_sim._io import atomic_write_npy_dir, data_dir, read_npy_dir
from nasbench_sim.errors import DataFormatError
from nasbench_sim.space.cell import adjacency_from_bits
from nasbench_sim.space.cellspace import CellSpace
from nasbench_sim.space.params import network_terms

FLOPS_CACHE = "space_flops_v1"


def space_costs(space: CellSpace, cost: str) -> np.ndarray:
    """(N,) int64 cost (one of `params.COSTS`) of every cell of the space, in the space's order."""
    num_vertices = np.asarray(space.num_vertices).astype(np.int64)
    labels = np.asarray(space.labels).astype(np.int64)
    keys = num_vertices << 32 | np.asarray(space.bits).astype(np.int64)  # one key per graph
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], keys.size]
    out = np.empty(keys.size, dtype=np.int64)
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        n, bits = int(ordered[start]) >> 32, int(ordered[start]) & 0xFFFFFFFF
        rows = order[start:end]
        out[rows] = _cells_cost(network_terms(adjacency_from_bits(n, bits), cost), labels[rows], n)
    return out


def _cells_cost(terms: tuple[int, np.ndarray], labels: np.ndarray, n: int) -> np.ndarray:
    """(C,) cost of C labellings ((C, >= n - 2) interior op indices) of one graph."""
    base, op_terms = terms
    if n == 2:
        return np.full(labels.shape[0], base, dtype=np.int64)
    return base + op_terms[np.arange(n - 2), labels[:, : n - 2]].sum(axis=1)


def space_flops(space: CellSpace, cache_dir: str | os.PathLike | None = None) -> np.ndarray:
    """(N,) int64 FLOPs (multiply-accumulates, see `params`) of every cell, cached beside the space.

    Args:
        space: the cell space.
        cache_dir: folder of the cache (default: `data_dir()`).
    """
    path = Path(cache_dir or data_dir()) / FLOPS_CACHE
    digest = space.meta.get("sorted_hashes_sha256") or space.digest()["sorted_hashes_sha256"]
    if (path / "meta.json").exists():
        try:
            arrays, meta = read_npy_dir(path, mmap=False)
            if meta.get("sorted_hashes_sha256") == digest and arrays["flops"].shape == (len(space),):
                return arrays["flops"]
        except (DataFormatError, KeyError):
            pass  # rebuilt below
    flops = space_costs(space, "flops")
    meta = {
        "about": "FLOPs (multiply-accumulates of one 32x32 image) of the CIFAR-10 NB101 network of every cell",
        "axes": {"flops": "(cell,) int64, the space's order (ascending official hash)"},
        "sorted_hashes_sha256": digest,
    }
    try:
        atomic_write_npy_dir(path, {"flops": flops}, meta)
    except OSError:
        pass  # a read-only data folder: computed again next time
    return flops
