"""The one-off enumeration of the NB101 space: every unique cell, hashed and sorted, plus the index arrays.

`build_space_arrays` returns the arrays `cellspace.CellSpace` loads and caches; it
runs once per machine (about a minute on all cores).

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

The index arrays map any valid matrix (by its bits) to its class and a
permutation onto the class's canonical frame, and a per-class table maps the
permuted labelling to the row (see `CellSpace.index`).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.space.enumeration import hash_cells
    >>> hash_cells(np.array([2]), np.array([1]), np.full((1, 5), -1), workers=1, progress=False)
    array([b'043721b9c7fe8c5fad811d47d83132ec'], dtype='|S32')
    >>> from nasbench_sim.space.enumeration import build_space_arrays
    >>> arrays, facts = build_space_arrays(progress=False)  # doctest: +SKIP
    >>> facts["num_cells"]  # doctest: +SKIP
    423624
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections import deque
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from nasbench_sim._runner import spawn_pool, stop_pool
from nasbench_sim.space.cell import MAX_EDGES, MAX_VERTICES, NUM_OP_SLOTS, NUM_OPS, edge_bit
from nasbench_sim.space.hashing import INPUT_LABEL, OUTPUT_LABEL, hash_modules
from nasbench_sim.space.params import parameter_terms


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
    return np.array(list(itertools.product(range(NUM_OPS), repeat=n - 2)), dtype=np.int64)


def _label_weights(n: int) -> np.ndarray:
    """Base-3 weights so that code order equals `itertools.product` order."""
    return NUM_OPS ** np.arange(n - 3, -1, -1, dtype=np.int64)


def _adjacency(n: int, bits: np.ndarray) -> np.ndarray:
    """(B, n, n) int8 adjacency of B edge-bit integers (`adjacency_from_bits` of many at once)."""
    bits = np.asarray(bits, dtype=np.int64)
    matrices = np.zeros((bits.size, n, n), dtype=np.int8)
    for i, j in _edges(n):
        matrices[:, i, j] = (bits >> edge_bit(i, j)) & 1
    return matrices


def labelling_parameters(matrix: np.ndarray, labellings: np.ndarray) -> np.ndarray:
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


def hash_cells(
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


def build_space_arrays(
    *, workers: int | None = None, progress: bool = True
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Enumerate the space from scratch.

    Args:
        workers: processes for hashing (default: all cores).
        progress: show tqdm progress bars.

    Returns:
        (arrays, facts): the arrays `CellSpace` stores (see there), and the facts of its
        meta.json that the enumeration finds (num_cells, slot_offset, the counts by number
        of vertices, the SHA-256 of the sorted hashes, build_seconds).
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
            label_parts.append(np.full((stored.size, NUM_OP_SLOTS), -1, dtype=np.int8))
            label_parts[-1][:, : n - 2] = labs[stored]
            param_parts.append(labelling_parameters(rep_matrices[c], labs[stored]))
            num_cells += stored.size
        num_classes += reps.size

    nv = np.concatenate(nv_parts)
    bits_arr = np.concatenate(bits_parts)
    labels = np.concatenate(label_parts)
    params = np.concatenate(param_parts).astype(np.int64)
    hash_arr = hash_cells(nv, bits_arr, labels, workers=workers or os.cpu_count() or 1, progress=progress)

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
    facts = {
        "num_cells": num_cells,
        "slot_offset": {str(n): off for n, off in slot_offset.items()},
        "num_unique_by_num_vertices": {str(n): int((nv == n).sum()) for n in range(2, MAX_VERTICES + 1)},
        "sorted_hashes_sha256": hashlib.sha256(b"\n".join(arrays["hashes"].tolist())).hexdigest(),
        "build_seconds": round(time.perf_counter() - start, 1),
    }
    return arrays, facts
