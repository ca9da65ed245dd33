"""The whole NB101 space: all 423,624 unique cells in ascending official-hash order.

Built once per machine (`benchmarks/first_run.py` times it) and cached as
`.npy` + JSON under the data directory. Row `i` is the `i`-th hash in sorted order,
the order of the official dataset and of `test108_repeat0.npy`.

Example:
    >>> from nasbench_sim.space import Cell, CellSpace
    >>> space = CellSpace.load_or_build()  # doctest: +SKIP
    >>> row = space.index(Cell([[0, 1], [0, 0]], ["input", "output"]))  # doctest: +SKIP
    >>> space.hashes[row].decode()  # doctest: +SKIP
    '043721b9c7fe8c5fad811d47d83132ec'

How the enumeration works (exact, no hash collisions assumed):
    1. For V = 2..7 list every upper-triangular 0/1 matrix (bit i->j at
       j*(j-1)/2 + i, the official generator's order) whose vertices all lie on
       an input-to-output path and that has at most 9 edges.
    2. Group them into unlabelled isomorphism classes by a canonical code: the
       minimum over all permutations of the interior vertices of the permuted
       matrix read as a V*V-bit integer. The class representative is its
       smallest-bits member, as the official generator keeps the first found.
    3. Two labellings of a representative give isomorphic cells iff they differ
       by an automorphism of it; the lexicographically smallest labelling of
       each orbit is the stored one (again the official first-found rule).
    4. Hash every (representative, labelling) with the official MD5 hash
       (`hash_modules`: all cells of a chunk at once, chunks split over the
       cores) and sort. The digest in ../shared checks the counts and the
       sorted hashes. Parameter counts come per representative as a base plus
       one term per (interior vertex, op) (`parameter_terms`).

The index maps any valid matrix (by its bits) to its class and a permutation
onto the class's canonical frame; a per-class table maps the permuted
labelling to the row. A lookup is a few integer operations, no hashing.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from nasbench_sim._io import atomic_write_npy_dir, data_dir, read_npy_dir
from nasbench_sim._runner import spawn_pool, stop_pool
from nasbench_sim.errors import DataFormatError, OutOfDomainError
from nasbench_sim.space.cell import INPUT, MAX_EDGES, MAX_VERTICES, OPS, OUTPUT, Cell, adjacency_from_bits, edge_bit
from nasbench_sim.space.hashing import INPUT_LABEL, OUTPUT_LABEL, hash_modules
from nasbench_sim.space.params import parameter_terms

#: Bump when the cache layout or content changes.
FORMAT_VERSION = 1
NUM_CELLS = 423_624
CACHE_NAME = f"space_v{FORMAT_VERSION}"
_NUM_OPS = len(OPS)


def _edges(n: int) -> list[tuple[int, int]]:
    """Edges (src, dst) in bit order: position j*(j-1)/2 + i for edge i->j."""
    return [(i, j) for j in range(1, n) for i in range(j)]


def _valid_bits(n: int) -> np.ndarray:
    """All matrices on n vertices that need no pruning and have <= 9 edges, ascending."""
    k = n * (n - 1) // 2
    bits = np.arange(1 << k, dtype=np.int64)
    bits = bits[np.bitwise_count(bits) <= MAX_EDGES]
    out_mask = [0] * n
    in_mask = [0] * n
    for pos, (i, j) in enumerate(_edges(n)):
        out_mask[i] |= 1 << pos
        in_mask[j] |= 1 << pos
    ok = np.ones(bits.shape, dtype=bool)
    for v in range(n - 1):
        ok &= (bits & out_mask[v]) != 0
    for v in range(1, n):
        ok &= (bits & in_mask[v]) != 0
    return bits[ok]


def _interior_perms(n: int) -> np.ndarray:
    """(P, n) permutations fixing input (0) and output (n-1); identity first."""
    inner = list(itertools.permutations(range(1, n - 1)))
    return np.array([(0, *p, n - 1) for p in inner], dtype=np.int64).reshape(len(inner), n)


def _perm_codes(bits: np.ndarray, n: int, perms: np.ndarray) -> np.ndarray:
    """(B, P) code of each matrix permuted by each perm: K[a, b] = M[p[a], p[b]] read as bits a*n+b."""
    edge_bits = [(bits >> pos) & 1 for pos in range(n * (n - 1) // 2)]
    codes = np.zeros((bits.size, len(perms)), dtype=np.int64)
    for k, p in enumerate(perms):
        inv = np.argsort(p)
        col = codes[:, k]
        for pos, (i, j) in enumerate(_edges(n)):
            col |= edge_bits[pos] << int(inv[i] * n + inv[j])
    return codes


def _labellings(n: int) -> np.ndarray:
    """(3**(n-2), n-2) all interior labellings in `itertools.product` order."""
    if n == 2:
        return np.zeros((1, 0), dtype=np.int64)
    return np.array(list(itertools.product(range(_NUM_OPS), repeat=n - 2)), dtype=np.int64)


def _label_weights(n: int) -> np.ndarray:
    """Base-3 weights so that code order equals `itertools.product` order."""
    return _NUM_OPS ** np.arange(n - 3, -1, -1, dtype=np.int64)


def _adjacency(n: int, bits: np.ndarray) -> np.ndarray:
    """(B, n, n) int8 adjacency of B edge-bit integers (`adjacency_from_bits` of many at once)."""
    bits = np.asarray(bits, dtype=np.int64)
    matrices = np.zeros((bits.size, n, n), dtype=np.int8)
    for i, j in _edges(n):
        matrices[:, i, j] = (bits >> edge_bit(i, j)) & 1
    return matrices


def _labelling_parameters(matrix: np.ndarray, labellings: np.ndarray) -> np.ndarray:
    """(L,) int64 trainable parameters of L labellings ((L, n-2) interior op indices) of one (n, n) graph."""
    base, op_terms = parameter_terms(matrix)
    return base + op_terms[np.arange(op_terms.shape[0]), labellings].sum(1)


def _hash_chunk(chunk: tuple[int, np.ndarray, np.ndarray]) -> np.ndarray:
    """(B,) S32 official hashes of B cells with n vertices: (n, (B,) bits, (B, >= n-2) interior labels)."""
    n, bits, labels = chunk
    labelings = np.empty((bits.size, n), dtype=np.int64)
    labelings[:, 0] = INPUT_LABEL
    labelings[:, 1 : n - 1] = labels[:, : n - 2]
    labelings[:, n - 1] = OUTPUT_LABEL
    return hash_modules(_adjacency(n, bits), labelings)


def _hash_all(
    nv: np.ndarray, bits: np.ndarray, labels: np.ndarray, *, workers: int, progress: bool, chunk: int = 16384
) -> np.ndarray:
    """(N,) S32 official hashes of N cells in compact form, hashed in chunks of one vertex count on `workers` processes.

    Args:
        nv: (N,) vertex counts.
        bits: (N,) edge bits.
        labels: (N, >= 5) interior op indices, -1 padded.
        workers: processes (1: in this process).
        progress: show a tqdm bar.
        chunk: cells per task.
    """
    rows = []
    for n in np.unique(nv).tolist():
        of_n = np.flatnonzero(nv == n)
        rows += [of_n[s : s + chunk] for s in range(0, of_n.size, chunk)]
    tasks = [(int(nv[r[0]]), bits[r], labels[r]) for r in rows]
    hashes = np.empty(nv.size, dtype="S32")
    with tqdm(total=nv.size, desc="hashing NB101 cells", unit="cell", disable=not progress) as bar:
        if workers <= 1:
            for r, task in zip(rows, tasks, strict=True):
                hashes[r] = _hash_chunk(task)
                bar.update(r.size)
            return hashes
        # Spawned workers that exit with this process (kill -9 included); 2 tasks per worker in flight.
        pool = spawn_pool(workers)
        try:
            queue = iter(zip(rows, tasks, strict=True))
            window = deque((r, pool.submit(_hash_chunk, t)) for r, t in itertools.islice(queue, 2 * workers))
            while window:
                r, future = window.popleft()
                hashes[r] = future.result()
                window.extend((r2, pool.submit(_hash_chunk, t2)) for r2, t2 in itertools.islice(queue, 1))
                bar.update(r.size)
        except BaseException:  # Ctrl-C or an error: stop now rather than after every chunk
            stop_pool(pool)
            raise
        pool.shutdown()
    return hashes


def build_space_arrays(*, workers: int | None = None, progress: bool = True) -> tuple[dict[str, np.ndarray], dict]:
    """Enumerate the space from scratch.

    Args:
        workers: processes for hashing (default: all cores).
        progress: show tqdm progress bars.

    Returns:
        (arrays, meta) as stored in the cache; see `CellSpace` for the arrays.
    """
    start = time.perf_counter()
    nv_parts, bits_parts, label_parts, param_parts = [], [], [], []  # per class: its unique cells, before sorting
    slot_parts, perm_parts, matclass_parts = [], [], []
    class_offset = []  # label-table slice of each unlabelled class
    table_cell = []  # per label-table entry: the unique-cell id (pre-sort) it maps to
    slot_offset = {}
    next_slot = 0
    num_cells = 0
    num_classes = 0
    table_len = 0
    for n in range(2, MAX_VERTICES + 1):  # quick (no hashing); the hashing below shows progress
        k = n * (n - 1) // 2
        slot_offset[n] = next_slot
        slot = np.full(1 << k, -1, dtype=np.int32)
        bits = _valid_bits(n)
        perms = _interior_perms(n)
        codes = _perm_codes(bits, n, perms)
        best = codes.argmin(axis=1)
        canon = codes[np.arange(bits.size), best]
        _, first, inverse = np.unique(canon, return_index=True, return_inverse=True)
        mat_ids = np.arange(bits.size, dtype=np.int32) + sum(p.size for p in matclass_parts)
        slot[bits] = mat_ids
        slot_parts.append(slot)
        perm_pad = np.zeros((bits.size, MAX_VERTICES), dtype=np.int8)
        perm_pad[:, :n] = perms[best]
        perm_parts.append(perm_pad)
        matclass_parts.append((inverse.ravel() + num_classes).astype(np.int32))
        next_slot += 1 << k

        reps = bits[first]
        rep_codes = codes[first]  # (C, P)
        rep_best = best[first]
        rep_matrices = _adjacency(n, reps)
        labs = _labellings(n)
        weights = _label_weights(n)
        lab_codes = labs @ weights if n > 2 else np.zeros(1, dtype=np.int64)
        for c in range(reps.size):
            auts = perms[rep_codes[c] == rep_codes[c, 0]]  # perms mapping the representative onto itself
            if n > 2:
                orbit = np.stack([labs[:, a[1:-1] - 1] @ weights for a in auts])  # (A, L): code of L o a
                min_code = orbit.min(axis=0)
            else:
                min_code = np.zeros(1, dtype=np.int64)
            stored = np.flatnonzero(lab_codes == min_code)  # orbit minima, ascending
            cell_of_code = np.full(lab_codes.size, -1, dtype=np.int64)
            cell_of_code[stored] = np.arange(stored.size) + num_cells
            cell_of_labelling = cell_of_code[min_code]
            # Canonical frame K = p*(rep); K-frame labelling of L is L o p*.
            p_star = perms[rep_best[c]]
            k_codes = labs[:, p_star[1:-1] - 1] @ weights if n > 2 else np.zeros(1, dtype=np.int64)
            entry = np.empty(lab_codes.size, dtype=np.int64)
            entry[k_codes] = cell_of_labelling
            table_cell.append(entry)
            class_offset.append(table_len)
            table_len += lab_codes.size
            nv_parts.append(np.full(stored.size, n, dtype=np.uint8))
            bits_parts.append(np.full(stored.size, reps[c], dtype=np.int32))
            label_parts.append(np.full((stored.size, MAX_VERTICES - 2), -1, dtype=np.int8))
            label_parts[-1][:, : n - 2] = labs[stored]
            param_parts.append(_labelling_parameters(rep_matrices[c], labs[stored]))
            num_cells += stored.size
        num_classes += reps.size

    nv = np.concatenate(nv_parts)
    bits_arr = np.concatenate(bits_parts)
    labels = np.concatenate(label_parts)
    params = np.concatenate(param_parts).astype(np.int64)
    hash_arr = _hash_all(nv, bits_arr, labels, workers=workers or os.cpu_count() or 1, progress=progress)

    order = np.argsort(hash_arr, kind="stable")
    if np.unique(hash_arr).size != num_cells:
        raise RuntimeError("official hash collision between non-isomorphic cells; enumeration cannot be stored")
    row_of_cell = np.empty(num_cells, dtype=np.int32)
    row_of_cell[order] = np.arange(num_cells, dtype=np.int32)
    arrays = {
        "hashes": hash_arr[order],
        "num_vertices": nv[order],
        "bits": bits_arr[order],
        "labels": labels[order],
        "trainable_parameters": params[order],
        "slot": np.concatenate(slot_parts),
        "perm": np.concatenate(perm_parts),
        "matrix_class": np.concatenate(matclass_parts),
        "class_offset": np.array(class_offset, dtype=np.int64),
        "label_table": row_of_cell[np.concatenate(table_cell)],
    }
    meta = {
        "format_version": FORMAT_VERSION,
        "about": "All unique NAS-Bench-101 cells in ascending official-hash order, plus a lookup index.",
        "num_cells": num_cells,
        "slot_offset": {str(n): off for n, off in slot_offset.items()},
        "num_unique_by_num_vertices": {str(n): int((nv == n).sum()) for n in range(2, MAX_VERTICES + 1)},
        "sorted_hashes_sha256": hashlib.sha256(b"\n".join(arrays["hashes"].tolist())).hexdigest(),
        "build_seconds": round(time.perf_counter() - start, 1),
        "axes": {
            "hashes": "(cell,) S32 official module hash",
            "num_vertices": "(cell,) vertices after pruning",
            "bits": "(cell,) edge i->j at bit j*(j-1)/2+i of the stored matrix",
            "labels": "(cell, 5) interior op index into OPS, -1 = no vertex",
            "trainable_parameters": "(cell,) parameters of the CIFAR-10 NB101 network",
        },
    }
    return arrays, meta


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
        """Enumerate from scratch (no cache)."""
        return cls(*build_space_arrays(workers=workers, progress=progress))

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
        from nasbench_sim.space.encodings import compact

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
