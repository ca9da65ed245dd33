"""The exact Pareto front of any objectives over all cells, and the indicators that score a search against it.

`exact_front(points)` returns the rows no other row dominates (all objectives
minimised; rows with a NaN are left out; equal points are all kept, each is a
cell). The indicators come from moocore: `hypervolume` of a set against a
reference point, `igd` and `igd_plus` of a set against the exact front, each
on objectives normalised by `normalise` (the exact front's ideal point to 0,
its nadir point to 1), so that parameters and test error weigh alike. The
reference point of the hypervolume is `REFERENCE` = 1.1 on every normalised
objective (the nadir plus a tenth of the front's range): the front's ends
count, points worse than the nadir by more than that add nothing.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.multiobjective.front import exact_front, hypervolume
    >>> points = np.array([[1.0, 5.0], [2.0, 3.0], [3.0, 4.0], [4.0, 1.0], [np.nan, 0.0]])
    >>> exact_front(points).tolist()
    [0, 1, 3]
    >>> round(hypervolume(points[[0, 1, 3]], reference=[5.0, 6.0]), 6)
    12.0
"""

from __future__ import annotations

from collections.abc import Sequence

import moocore
import numpy as np


def exact_front(points: np.ndarray) -> np.ndarray:
    """Rows of `points` (n, m) that no other row dominates, by ascending first objective (ties: next ones).

    Rows with a NaN are not candidates. Exact: the whole set is compared (moocore's
    non-dominated filter, O(n log n) for two and three objectives).
    """
    points = np.asarray(points, dtype=np.float64)
    finite = np.flatnonzero(~np.isnan(points).any(axis=1))
    keep = finite[moocore.is_nondominated(points[finite], keep_weakly=True)]
    return keep[np.lexsort(points[keep].T[::-1])]


#: Reference point of the hypervolume on normalised objectives (see the module docstring).
REFERENCE = 1.1


def normalise(points: np.ndarray, ideal: Sequence[float], nadir: Sequence[float]) -> np.ndarray:
    """(n, m) points with `ideal` mapped to 0 and `nadir` to 1 on each objective."""
    ideal = np.asarray(ideal, dtype=np.float64)
    return (np.asarray(points, dtype=np.float64) - ideal) / (np.asarray(nadir, dtype=np.float64) - ideal)


def hypervolume(points: np.ndarray, reference: Sequence[float]) -> float:
    """Volume dominated by `points` (n, m) and bounded by `reference` (points beyond it add nothing)."""
    points = np.asarray(points, dtype=np.float64)
    inside = points[(points < np.asarray(reference, dtype=np.float64)).all(axis=1)]
    return float(moocore.hypervolume(inside, ref=reference)) if inside.size else 0.0


def igd(points: np.ndarray, front: np.ndarray) -> float:
    """Inverted generational distance: mean distance from each point of `front` to the nearest of `points`."""
    return float(moocore.igd(np.asarray(points, dtype=np.float64), ref=np.asarray(front, dtype=np.float64)))


def igd_plus(points: np.ndarray, front: np.ndarray) -> float:
    """IGD+ (Ishibuchi et al. 2015): as `igd` with the distance counting only where a point is worse."""
    return float(moocore.igd_plus(np.asarray(points, dtype=np.float64), ref=np.asarray(front, dtype=np.float64)))
