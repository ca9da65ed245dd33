"""The input features of the embedded models (the surrogate and, with a level column, the budget model).

Per cell, 403 float32 values: the adjacency + one-hot ops encoding (36), the
path encoding (364), then log parameter count, vertex count and edge count,
all unscaled (each model stores its own feature scaling).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench.features import features
    >>> x = features(np.array([2]), np.array([1]), np.full((1, 5), -1), np.array([1000]))
    >>> x.shape, x.dtype, round(float(x[0, -3]), 3)
    ((1, 403), dtype('float32'), 6.908)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_sim.space.encodings import adjacency_onehot_compact, path_encoding_compact


def features(num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray, params: np.ndarray) -> np.ndarray:
    """(B, 403) float32 model input (unscaled) of B cells in compact form.

    Args:
        num_vertices: (B,) vertices per cell.
        bits: (B,) edges, edge i->j at bit j*(j-1)/2 + i.
        labels: (B, 5) interior ops as indices into `OPS`, -1 past the last vertex.
        params: (B,) trainable parameter counts.
    """
    labels = np.asarray(labels, dtype=np.int64)
    extra = np.column_stack(
        [
            np.log(np.asarray(params, dtype=np.float64)),
            np.asarray(num_vertices, dtype=np.float64),
            np.bitwise_count(np.asarray(bits, dtype=np.int64)),
        ]
    ).astype(np.float32)
    return np.concatenate(
        [
            adjacency_onehot_compact(num_vertices, bits, labels),
            path_encoding_compact(num_vertices, bits, labels),
            extra,
        ],
        axis=1,
    )


def space_features(space: Any, rows: slice | np.ndarray | None = None) -> np.ndarray:
    """(B, 403) float32 features of the cells of a `CellSpace` at `rows` (default: all 423,624), in row order."""
    rows = slice(None) if rows is None else rows
    return features(space.num_vertices[rows], space.bits[rows], space.labels[rows], space.trainable_parameters[rows])
