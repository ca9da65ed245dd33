"""The official NAS-Bench-101 graph hash (`nasbench.lib.graph_util.hash_module`).

A Weisfeiler-Lehman style iterated MD5 hash that is invariant to the order of
the interior vertices. Reproduced bit for bit: same strings, same MD5s.
`hash_module` is the plain reference; `hash_modules` computes the same hashes
for many cells at once, building the MD5 inputs with numpy (used to enumerate
the space; tests check it against `hash_module`).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.space.hashing import hash_module, hash_modules
    >>> hash_module([[0, 1], [0, 0]], [-1, -2])
    '043721b9c7fe8c5fad811d47d83132ec'
    >>> hash_modules(np.array([[[0, 1], [0, 0]]]), np.array([[-1, -2]]))
    array([b'043721b9c7fe8c5fad811d47d83132ec'], dtype='|S32')
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from nasbench_sim.errors import OutOfDomainError

try:  # CPython's built-in MD5: same digests as hashlib.md5 (OpenSSL), less overhead per call
    from _md5 import md5 as _fast_md5
except ImportError:  # pragma: no cover - Python built without it
    _fast_md5 = hashlib.md5

#: Labels of the hash: input -1, output -2, ops by index in `OPS`.
INPUT_LABEL = -1
OUTPUT_LABEL = -2


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def hash_module(matrix: Sequence[Sequence[int]], labeling: Sequence[int]) -> str:
    """Official module hash of a pruned cell.

    Args:
        matrix: (V, V) 0/1 upper-triangular adjacency (nested sequences or array).
        labeling: length V: -1 for input, -2 for output, op index otherwise.

    Returns:
        32-character lowercase hex MD5 fingerprint.
    """
    rows = [[int(x) for x in row] for row in matrix]
    n = len(rows)
    in_edges = [sum(rows[w][v] for w in range(n)) for v in range(n)]
    out_edges = [sum(row) for row in rows]
    in_nbrs = [[w for w in range(n) if rows[w][v]] for v in range(n)]
    out_nbrs = [[w for w in range(n) if rows[v][w]] for v in range(n)]
    hashes = [_md5(str((out_edges[v], in_edges[v], int(labeling[v])))) for v in range(n)]
    for _ in range(n):
        hashes = [
            _md5(
                "".join(sorted(hashes[w] for w in in_nbrs[v]))
                + "|"
                + "".join(sorted(hashes[w] for w in out_nbrs[v]))
                + "|"
                + hashes[v]
            )
            for v in range(n)
        ]
    return _md5(str(sorted(hashes)))


#: _HEX_PAIRS[b]: the two lowercase hex digits of byte b, as a little-endian uint16 (first digit in the low byte).
_HEX_PAIRS = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), dtype="<u2")
_BAR = ord("|")


def _md5_rows(messages: np.ndarray) -> np.ndarray:
    """(M, 16) uint8 MD5 digests of the rows of an (M, L) uint8 array (L >= 1, no trailing NUL bytes)."""
    digest = type(_fast_md5()).digest
    raw = b"".join(map(digest, map(_fast_md5, messages.view(f"S{messages.shape[1]}").ravel().tolist())))
    return np.frombuffer(raw, dtype=np.uint8).reshape(messages.shape[0], 16)


def _hex(digests: np.ndarray) -> np.ndarray:
    """(M, 32) uint8 lowercase hex text of (M, 16) uint8 digests, as `hexdigest()` writes it."""
    return _HEX_PAIRS[digests].view(np.uint8).reshape(digests.shape[0], 32)


def rank_in_cell(digests: np.ndarray, n: int) -> np.ndarray:
    """(C, n) each cell's vertices (row indices into `digests`, (C*n, 16)) ordered so that their hex texts ascend.

    Hex text order is the order of the digest bytes. Sorts by the first 61 bits
    with the vertex number in the last 3; where two different digests agree on
    those 61 bits (about never) it sorts again by all 128 bits.
    """
    halves = digests.view(">u8").reshape(-1, n, 2)
    keys = np.sort((halves[:, :, 0] & ~np.uint64(7)) | np.arange(n, dtype=np.uint64), axis=1)
    ranked = (keys & np.uint64(7)).astype(np.int64) + np.arange(0, halves.shape[0] * n, n)[:, None]
    flat = digests.view(">u8")
    high, low = flat[ranked, 0], flat[ranked, 1]
    if np.any(((high[:, 1:] ^ high[:, :-1]) < 8) & ((high[:, 1:] != high[:, :-1]) | (low[:, 1:] != low[:, :-1]))):
        order = np.lexsort((halves[:, :, 1], halves[:, :, 0]), axis=1)
        ranked = order + np.arange(0, halves.shape[0] * n, n)[:, None]
    return ranked


def hash_modules(matrices: np.ndarray, labelings: np.ndarray) -> np.ndarray:
    """Official module hashes of many pruned cells with the same number of vertices.

    Equal to `[hash_module(m, l) for m, l in zip(matrices, labelings)]`, byte
    for byte, but builds each Weisfeiler-Lehman round's MD5 inputs for all
    cells at once; only the MD5s themselves run one by one (V^2 + 1 per cell).

    Args:
        matrices: (C, V, V) 0/1 upper-triangular adjacency, V <= 7.
        labelings: (C, V) labels: -1 for input, -2 for output, op index otherwise.

    Returns:
        (C,) S32 hex MD5 fingerprints (ASCII bytes).

    Raises:
        OutOfDomainError: more than 7 vertices.
    """
    adjacency = np.asarray(matrices).astype(bool)
    num_cells, n = adjacency.shape[:2]
    if n > 7:  # degrees must fit in 3 bits and a vertex's MD5 inputs in 7 slots of 8 bits
        raise OutOfDomainError(f"hash_modules handles cells of at most 7 vertices, got {n}")
    if num_cells == 0:
        return np.empty(0, dtype="S32")
    in_degree = adjacency.sum(1).ravel()  # vertex k*n+v: vertex v of cell k
    out_degree = adjacency.sum(2).ravel()
    labels = np.asarray(labelings, dtype=np.int64).ravel()
    # Round 0: md5(str((out, in, label))) of the few distinct triples.
    triples, which = np.unique((out_degree * 8 + in_degree) * 8 + labels + 2, return_inverse=True)
    first = b"".join(_fast_md5(str((t // 64, t // 8 % 8, t % 8 - 2)).encode()).digest() for t in triples.tolist())
    digests = np.frombuffer(first, dtype=np.uint8).reshape(-1, 16)[which.ravel()]
    # Vertices grouped by (in, out) degree, so that each group's MD5 inputs have one length.
    degrees = in_degree * 8 + out_degree
    groups = [(d // 8, d % 8, np.flatnonzero(degrees == d)) for d in np.unique(degrees).tolist()]
    cell_of = np.repeat(np.arange(num_cells), n)
    to_vertex = adjacency.transpose(0, 2, 1)  # [k, v, w]: edge w -> v
    ids = which.ravel()  # round-0 digest ids: few distinct round-1 inputs, worth computing only once each
    for _ in range(n):
        text = _hex(digests)
        ranked = rank_in_cell(digests, n)  # (C, n)
        local = ranked - np.arange(0, num_cells * n, n)[:, None]
        # [k, v, j]: the j-th vertex of cell k in hash order is a predecessor (successor) of v.
        is_pred = np.take_along_axis(to_vertex, local[:, None, :], 2).reshape(-1, n)
        is_succ = np.take_along_axis(adjacency, local[:, None, :], 2).reshape(-1, n)
        new = np.empty_like(digests)
        for din, dout, rows in groups:
            cells = cell_of[rows]
            preds = ranked[cells[:, None], np.nonzero(is_pred[rows])[1].reshape(rows.size, din)]
            succs = ranked[cells[:, None], np.nonzero(is_succ[rows])[1].reshape(rows.size, dout)]
            inputs = np.concatenate([preds, succs, rows[:, None]], axis=1)  # (M, din + dout + 1), din + dout < 7
            if ids is not None:  # round 1: one MD5 per distinct input, keyed by the round-0 ids (< 256, 7 of them)
                key = (ids[inputs] << np.arange(0, 8 * inputs.shape[1], 8)).sum(1)
                _, first, again = np.unique(key, return_index=True, return_inverse=True)
                inputs = inputs[first]
            message = np.empty((inputs.shape[0], 32 * (din + dout + 1) + 2), dtype=np.uint8)
            message[:, : 32 * din] = text[inputs[:, :din]].reshape(inputs.shape[0], -1)
            message[:, 32 * din] = _BAR
            message[:, 32 * din + 1 : 32 * (din + dout) + 1] = text[inputs[:, din:-1]].reshape(inputs.shape[0], -1)
            message[:, 32 * (din + dout) + 1] = _BAR
            message[:, -32:] = text[inputs[:, -1]]
            new[rows] = _md5_rows(message) if ids is None else _md5_rows(message)[again.ravel()]
        digests = new
        ids = None
    # Final: md5(str(sorted(hashes))), i.e. "['<hex>', '<hex>', ...]".
    quoted = np.full((num_cells, n, 36), ord(" "), dtype=np.uint8)
    quoted[:, :, 0] = ord("'")
    quoted[:, :, 1:33] = _hex(digests)[rank_in_cell(digests, n)]
    quoted[:, :, 33] = ord("'")
    quoted[:, :, 34] = ord(",")
    message = np.empty((num_cells, 36 * n), dtype=np.uint8)
    message[:, 0] = ord("[")
    message[:, 1:] = quoted.reshape(num_cells, -1)[:, : 36 * n - 1]
    message[:, -1] = ord("]")
    return _hex(_md5_rows(message)).view("S32").ravel()
