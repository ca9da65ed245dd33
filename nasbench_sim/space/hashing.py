"""The official NAS-Bench-101 graph hash (`nasbench.lib.graph_util.hash_module`).

A Weisfeiler-Lehman style iterated MD5 hash that is invariant to the order of
the interior vertices. Reproduced bit for bit: same strings, same MD5s.

Example:
    >>> from nasbench_sim.space.hashing import hash_module
    >>> hash_module([[0, 1], [0, 0]], [-1, -2])
    '043721b9c7fe8c5fad811d47d83132ec'
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

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
