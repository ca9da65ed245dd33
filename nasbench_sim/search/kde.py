"""BOHB's model of good cells: per-dimension Aitchison-Aitken kernels over the 21 edges and 5 ops.

Observations are kept per budget; a new cell comes from the largest budget with
enough observations: candidates are drawn around the good cells (the best
`top_fraction`) with widened kernels and the one with the highest ratio of
good to bad density that is a valid cell is proposed (Falkner et al. 2018).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.kde import CellKDE
    >>> from nasbench_sim.search.multifidelity import BOHBConfig
    >>> from nasbench_sim.space.sampling import random_cell
    >>> kde = CellKDE(BOHBConfig(min_points=3), np.random.default_rng(0))
    >>> rng = np.random.default_rng(1)
    >>> for k in range(4):
    ...     kde.record(random_cell(rng), 108, 0.9 + 0.01 * k)
    >>> kde.propose() is not None
    True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.cell import NUM_EDGE_SLOTS, NUM_OPS, Cell
from nasbench_sim.space.encodings import CATEGORICAL_LENGTH, cell_from_categorical, raw_categorical

#: Choices of each of the 26 decisions.
_LEVELS = np.array([2] * NUM_EDGE_SLOTS + [NUM_OPS] * (CATEGORICAL_LENGTH - NUM_EDGE_SLOTS))


class CellKDE:
    """Tree-Parzen densities of good and bad cells per budget.

    Args:
        config: any config with BOHB's model settings (`random_fraction`, `top_fraction`,
            `min_points`, `num_samples`, `bandwidth_factor`, `min_bandwidth`).
        rng: the model's own stream (the random share and the candidate draws).
    """

    def __init__(self, config: Any, rng: np.random.Generator) -> None:
        self.config = config
        self.rng = rng
        self.by_budget: dict[int, list[tuple[np.ndarray, float]]] = {}

    def record(self, cell: Cell, epochs: int, value: float) -> None:
        """A validation accuracy of `cell` trained for `epochs`."""
        self.by_budget.setdefault(epochs, []).append((raw_categorical([cell])[0], float(value)))

    def propose(self) -> Cell | None:
        """A cell from the model, or None: no budget has enough observations yet, or this draw is random."""
        c = self.config
        needed = c.min_points if c.min_points is not None else CATEGORICAL_LENGTH + 1
        ready = [b for b, obs in self.by_budget.items() if len(obs) >= needed]
        if not ready or self.rng.random() < c.random_fraction:
            return None
        observations = self.by_budget[max(ready)]
        x = np.stack([o[0] for o in observations])
        y = np.array([o[1] for o in observations])
        n_good = max(1, math.ceil(c.top_fraction * len(y)))
        order = np.argsort(-y, kind="stable")
        good, bad = x[order[:n_good]], x[order[n_good:]]
        for _ in range(100):
            candidates = self._draw(good, c.num_samples)
            score = self._log_density(candidates, good) - self._log_density(candidates, bad)
            for i in np.argsort(-score, kind="stable"):
                try:
                    return cell_from_categorical(candidates[i])
                except OutOfDomainError:
                    continue
        return None

    def _bandwidths(self, points: np.ndarray) -> np.ndarray:
        """Per dimension: Aitchison-Aitken bandwidth from the share of points off the mode (Scott-like)."""
        counts = np.array([np.bincount(points[:, d], minlength=_LEVELS[d]).max() for d in range(points.shape[1])])
        spread = 1.0 - counts / len(points)
        bandwidth = np.maximum(spread * len(points) ** (-1 / 5), self.config.min_bandwidth)
        return np.minimum(bandwidth, (_LEVELS - 1) / _LEVELS)

    def _log_density(self, x: np.ndarray, points: np.ndarray) -> np.ndarray:
        """log KDE density of rows of `x` under per-dimension Aitchison-Aitken kernels at `points`."""
        if len(points) == 0:
            return np.zeros(len(x))
        bw = self._bandwidths(points)
        same = x[:, None, :] == points[None, :, :]
        kernel = np.where(same, 1.0 - bw, bw / (_LEVELS - 1))
        return np.log(np.mean(np.prod(kernel, axis=2), axis=1) + 1e-300)

    def _draw(self, good: np.ndarray, count: int) -> np.ndarray:
        """Candidates around random good points, each dimension resampled with a widened bandwidth."""
        bw = np.minimum(self._bandwidths(good) * self.config.bandwidth_factor, (_LEVELS - 1) / _LEVELS)
        centres = good[self.rng.integers(0, len(good), count)]
        change = self.rng.random(centres.shape) < bw
        shift = self.rng.integers(1, _LEVELS, size=centres.shape)  # a different level, uniformly
        return np.where(change, (centres + shift) % _LEVELS, centres)
