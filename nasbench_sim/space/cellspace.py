"""The whole NB101 space: all 423,624 unique cells in ascending official-hash order, and their index.

Built once per machine by `nasbench_sim.space.enumeration` (`benchmarks/first_run.py`
times it) and cached as `.npy` + JSON under the data directory. Row `i` is the
`i`-th hash in sorted order, the order of the official dataset and of
`test108_repeat0.npy`.

The index maps any valid matrix (by its bits) to its isomorphism class and a
permutation onto the class's canonical frame; a per-class table maps the permuted
labelling to the row. A lookup is a few integer operations, no hashing.

Example:
    >>> from nasbench_sim.space.cellspace import CACHE_NAME, NUM_CELLS
    >>> CACHE_NAME, NUM_CELLS
    ('space_v1', 423624)
    >>> from nasbench_sim.space import Cell, CellSpace
    >>> space = CellSpace.load_or_build()  # doctest: +SKIP
    >>> row = space.index(Cell([[0, 1], [0, 0]], ["input", "output"]))  # doctest: +SKIP
    >>> space.hashes[row].decode()  # doctest: +SKIP
    '043721b9c7fe8c5fad811d47d83132ec'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim._io import atomic_write_npy_dir, data_dir, read_npy_dir
from nasbench_sim.errors import DataFormatError, OutOfDomainError
from nasbench_sim.space.cell import INPUT, MAX_VERTICES, OPS, OUTPUT, Cell, adjacency_from_bits
from nasbench_sim.space.enumeration import build_space_arrays
from nasbench_sim.space.forms import compact

#: Bump when the cache layout or content changes.
FORMAT_VERSION = 1
NUM_CELLS = 423_624
CACHE_NAME = f"space_v{FORMAT_VERSION}"
#: What the cache's meta.json says of itself and of its arrays.
ABOUT = "All unique NAS-Bench-101 cells in ascending official-hash order, plus a lookup index."
AXES = {
    "hashes": "(cell,) S32 official module hash",
    "num_vertices": "(cell,) vertices after pruning",
    "bits": "(cell,) edge i->j at bit j*(j-1)/2+i of the stored matrix",
    "labels": "(cell, 5) interior op index into OPS, -1 = no vertex",
    "trainable_parameters": "(cell,) parameters of the CIFAR-10 NB101 network",
}


class CellSpace:
    """All unique NB101 cells in ascending official-hash order, with a fast index.

    Attributes:
        hashes: (N,) bytes S32, official module hashes, sorted ascending.
        num_vertices: (N,) uint8 vertices of the stored (pruned) cell.
        bits: (N,) int32 edges of the stored matrix (see `Cell.bits`).
        labels: (N, 5) int8 interior op indices into `OPS`, -1 past the last vertex.
        trainable_parameters: (N,) int64 parameters of the CIFAR-10 network.
    """

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.meta = meta
        self.hashes = arrays["hashes"]
        self.num_vertices = arrays["num_vertices"]
        self.bits = arrays["bits"]
        self.labels = arrays["labels"]
        self.trainable_parameters = arrays["trainable_parameters"]
        self._slot = arrays["slot"]
        self._perm = arrays["perm"]
        self._matrix_class = arrays["matrix_class"]
        self._class_offset = arrays["class_offset"]
        self._label_table = arrays["label_table"]
        self._slot_offset = [0] * (MAX_VERTICES + 1)
        for n, off in meta["slot_offset"].items():
            self._slot_offset[int(n)] = int(off)
        self._hash_list: list[bytes] | None = None
        self._stored_matrices: dict[tuple[int, int], np.ndarray] = {}
        # (V, bits) -> (interior vertices in canonical-frame order, label-table offset); filled lazily
        self._frames: dict[tuple[int, int], tuple[list[int], int]] = {}

    # --- construction ------------------------------------------------------
    @classmethod
    def build(cls, *, workers: int | None = None, progress: bool = True) -> CellSpace:
        """Enumerate from scratch (no cache).

        Args:
            workers: processes for hashing (default: all cores).
            progress: show tqdm progress bars.
        """
        arrays, facts = build_space_arrays(workers=workers, progress=progress)
        return cls(arrays, {"format_version": FORMAT_VERSION, "about": ABOUT, **facts, "axes": AXES})

    @classmethod
    def load(cls, path: str | os.PathLike) -> CellSpace:
        """Load a cache folder written by `save`.

        Raises:
            DataFormatError: missing, corrupt or of another format version.
        """
        arrays, meta = read_npy_dir(path)
        if meta.get("format_version") != FORMAT_VERSION or meta.get("num_cells") != NUM_CELLS:
            raise DataFormatError(f"{path}: space cache of another format; delete it to rebuild")
        if arrays["hashes"].shape != (NUM_CELLS,):
            raise DataFormatError(f"{path}: space cache has the wrong number of cells")
        return cls(arrays, meta)

    def save(self, path: str | os.PathLike) -> None:
        """Write the cache folder atomically."""
        arrays = {
            "hashes": self.hashes,
            "num_vertices": self.num_vertices,
            "bits": self.bits,
            "labels": self.labels,
            "trainable_parameters": self.trainable_parameters,
            "slot": self._slot,
            "perm": self._perm,
            "matrix_class": self._matrix_class,
            "class_offset": self._class_offset,
            "label_table": self._label_table,
        }
        meta = {k: v for k, v in self.meta.items() if k != "arrays"}
        atomic_write_npy_dir(path, arrays, meta)

    @classmethod
    def load_or_build(cls, cache_dir: str | os.PathLike | None = None, *, progress: bool = True) -> CellSpace:
        """The cached space of this machine, built and cached on first use.

        Args:
            cache_dir: folder holding the cache (default: `data_dir()`).
            progress: show progress bars while building.
        """
        path = Path(cache_dir or data_dir()) / CACHE_NAME
        key = str(path.resolve())
        if key in _LOADED:
            return _LOADED[key]
        if (path / "meta.json").exists():
            space = cls.load(path)
        else:
            space = cls.build(progress=progress)
            space.save(path)
        _LOADED[key] = space
        return space

    # --- lookups -----------------------------------------------------------
    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    def index(self, cell: Cell) -> int:
        """Row of `cell` (any vertex order, pruned or not) in hash order."""
        key = (len(cell.ops), cell.bits)
        frame = self._frames.get(key)
        if frame is None:
            n = key[0]
            mat = int(self._slot[self._slot_offset[n] + key[1]])
            interior = [v - 1 for v in self._perm[mat, 1 : n - 1].tolist()]
            frame = self._frames[key] = (interior, int(self._class_offset[self._matrix_class[mat]]))
        labels = cell.labels
        code = 0
        for v in frame[0]:
            code = code * 3 + labels[v]
        return int(self._label_table[frame[1] + code])

    def indices_from_compact(self, num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Rows of many pruned cells given in compact form, vectorised.

        Args:
            num_vertices: (B,) vertices after pruning.
            bits: (B,) edge bits (see `Cell.bits`).
            labels: (B, >=V-2) interior op indices in the cells' own vertex order.

        Returns:
            (B,) int64 rows.
        """
        nv = np.asarray(num_vertices, dtype=np.int64)
        offsets = np.asarray(self._slot_offset, dtype=np.int64)[nv]
        mat = self._slot[offsets + np.asarray(bits, dtype=np.int64)].astype(np.int64)
        if (mat < 0).any():
            raise OutOfDomainError("some compact cells are not pruned valid NB101 matrices")
        perm = self._perm[mat].astype(np.int64)  # (B, 7)
        labels = np.asarray(labels, dtype=np.int64)
        code = np.zeros(nv.shape, dtype=np.int64)
        for pos in range(1, MAX_VERTICES - 1):
            active = pos < nv - 1
            lab = np.take_along_axis(labels, np.clip(perm[:, pos : pos + 1] - 1, 0, labels.shape[1] - 1), 1)[:, 0]
            code = np.where(active, code * 3 + lab, code)
        return self._label_table[self._class_offset[self._matrix_class[mat]] + code].astype(np.int64)

    def indices(self, cells: Sequence[Cell]) -> np.ndarray:
        """(B,) rows of many cells (vectorised after gathering their compact forms)."""
        return self.indices_from_compact(*compact(cells))

    def index_of_hash(self, module_hash: str | bytes) -> int:
        """Row of an official hash.

        Raises:
            OutOfDomainError: the hash is not one of the 423,624 cells.
        """
        key = module_hash.encode() if isinstance(module_hash, str) else module_hash
        row = int(np.searchsorted(self.hashes, key))
        if row >= len(self) or self.hashes[row] != key:
            raise OutOfDomainError(f"unknown module hash {module_hash!r}: not a NAS-Bench-101 cell")
        return row

    def stored_spec(self, row: int) -> tuple[np.ndarray, list[str]]:
        """Stored (pruned, canonical) adjacency (V, V) int8 (read-only, shared) and op names of a row."""
        n = int(self.num_vertices[row])
        key = (n, int(self.bits[row]))
        matrix = self._stored_matrices.get(key)
        if matrix is None:  # stored matrices are class representatives: a few thousand distinct ones
            matrix = adjacency_from_bits(n, key[1])
            matrix.flags.writeable = False
            self._stored_matrices[key] = matrix
        return matrix, [INPUT, *(OPS[k] for k in self.labels[row, : n - 2].tolist()), OUTPUT]

    def cell(self, row: int) -> Cell:
        """The stored (canonical) cell of a row."""
        n = int(self.num_vertices[row])
        return Cell.from_labels(n, int(self.bits[row]), self.labels[row, : n - 2].tolist())

    def hash_list(self) -> list[str]:
        """All hashes as str, ascending (cached)."""
        if self._hash_list is None:
            self._hash_list = [h.decode() for h in self.hashes.tolist()]
        return self._hash_list  # type: ignore[return-value]

    def digest(self) -> dict[str, Any]:
        """Counts by vertex number and SHA-256 of the sorted hashes, as in `space_digest.json`."""
        counts = np.bincount(np.asarray(self.num_vertices), minlength=MAX_VERTICES + 1)
        return {
            "num_unique_cells": len(self),
            "num_unique_by_num_vertices": {str(n): int(counts[n]) for n in range(2, MAX_VERTICES + 1)},
            "sorted_hashes_sha256": hashlib.sha256(b"\n".join(np.asarray(self.hashes).tolist())).hexdigest(),
        }


_LOADED: dict[str, CellSpace] = {}
