"""The prior of a cell's true mean test accuracy around its level, estimated from the real repeat 0.

A cell's true mean is `level + delta`. Repeat 0 around the level is skewed
(a heavy lower tail: cells that train worse than their structure predicts) and
heavy-tailed, so `delta` has no parametric form here: its distribution is a
discrete distribution on a fixed grid of offsets, estimated by nonparametric
maximum likelihood (the Kiefer-Wolfowitz NPMLE, fitted by EM) from the real
repeat-0 deviations `d = t0 - level`, given each cell's Gaussian repeat noise
`s`: `d = delta + s z`. The distribution changes with the level: one weight
vector per *node* level, and a cell's prior is the linear interpolation of the
two nodes around its level (clamped beyond the ends), so it changes smoothly.

Given a cell's real repeat 0, the posterior of `delta` is the prior times the
Gaussian likelihood on the grid: `MeanPrior.posterior` and `MeanPrior.sample`.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench.mean_prior import MeanPrior
    >>> prior = MeanPrior(np.array([0.9]), np.array([-0.01, 0.0, 0.01]), np.array([[0.25, 0.5, 0.25]]))
    >>> prior.posterior(np.array([0.01]), np.array([0.9]), np.array([0.005])).round(3)  # (cells, grid)
    array([[0.   , 0.213, 0.787]])
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from nasbench_sim._io import read_npz_artifact, write_npz_artifact
from nasbench_sim.errors import DataFormatError

#: Node levels of the shipped prior (fractions), and its grid of offsets (fractions): every
#: deviation a trained cell can have (repeat 0 and level both in [0.80, 0.95]: within ±15 points),
#: 0.1-point steps within ±3 points and 0.5-point steps beyond.
NODE_LEVELS = (0.80, 0.85, 0.88, 0.90, 0.91, 0.92, 0.925, 0.93, 0.935, 0.94)
GRID = np.round(
    np.concatenate(
        [np.arange(-0.15, -0.03, 0.005), np.arange(-0.03, 0.03, 0.001), np.arange(0.03, 0.15 + 1e-9, 0.005)]
    ),
    6,
)
#: EM iterations of the fit, and rows per block when evaluating many cells.
EM_ITERATIONS = 300
BLOCK = 32_768


@dataclass(frozen=True, eq=False)
class MeanPrior:
    """A discrete prior of `delta = true mean - level` per node level.

    Attributes:
        nodes: (B,) increasing node levels in [0, 1].
        grid: (G,) increasing offsets `delta` (accuracy fractions).
        weights: (B, G) prior probabilities per node; each row sums to 1.
    """

    nodes: np.ndarray
    grid: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        nodes, grid, weights = (np.asarray(a, dtype=np.float64) for a in (self.nodes, self.grid, self.weights))
        if nodes.ndim != 1 or grid.ndim != 1 or weights.shape != (nodes.size, grid.size):
            raise DataFormatError(
                f"mean prior: weights {weights.shape} do not match nodes {nodes.shape} x grid {grid.shape}"
            )
        if np.any(np.diff(nodes) <= 0) or np.any(np.diff(grid) <= 0):
            raise DataFormatError("mean prior: nodes and grid must be strictly increasing")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or not np.allclose(weights.sum(axis=1), 1.0):
            raise DataFormatError("mean prior: every node's weights must be non-negative and sum to 1")
        for name, value in (("nodes", nodes), ("grid", grid), ("weights", weights)):
            object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MeanPrior) and self.sha256 == other.sha256

    __hash__ = None  # type: ignore[assignment]

    @property
    def sha256(self) -> str:
        """SHA-256 of the nodes, grid and weights (names the tables drawn with this prior)."""
        digest = hashlib.sha256()
        for array in (self.nodes, self.grid, self.weights):
            digest.update(np.ascontiguousarray(array, dtype="<f8").tobytes())
        return digest.hexdigest()

    # --- per-cell prior ------------------------------------------------------------------
    def node_weights(self, level: np.ndarray) -> np.ndarray:
        """(N, B) interpolation weights of each cell's level on the nodes (hat functions, clamped)."""
        m = np.clip(np.asarray(level, dtype=np.float64), self.nodes[0], self.nodes[-1])
        out = np.zeros((m.size, self.nodes.size))
        if self.nodes.size == 1:
            out[:, 0] = 1.0
            return out
        upper = np.clip(np.searchsorted(self.nodes, m, side="right"), 1, self.nodes.size - 1)
        frac = (m - self.nodes[upper - 1]) / (self.nodes[upper] - self.nodes[upper - 1])
        rows = np.arange(m.size)
        out[rows, upper - 1] = 1.0 - frac
        out[rows, upper] += frac
        return out

    def cell_prior(self, level: np.ndarray) -> np.ndarray:
        """(N, G) each cell's prior of `delta` at its level."""
        return self.node_weights(level) @ self.weights

    def moments(self, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, sd) of the prior of `delta` at each level (N,)."""
        return _grid_moments(self.cell_prior(level), self.grid)

    # --- posterior given repeat 0 --------------------------------------------------------
    def _log_posterior(self, deviation: np.ndarray, level: np.ndarray, noise_sd: np.ndarray) -> np.ndarray:
        d, s = np.asarray(deviation, dtype=np.float64), np.asarray(noise_sd, dtype=np.float64)
        with np.errstate(divide="ignore"):
            log_prior = np.log(self.cell_prior(level))
        log_post = log_prior - 0.5 * ((d[:, None] - self.grid[None, :]) / s[:, None]) ** 2
        return log_post - log_post.max(axis=1, keepdims=True)

    def posterior(self, deviation: np.ndarray, level: np.ndarray, noise_sd: np.ndarray) -> np.ndarray:
        """(N, G) posterior of `delta` given `d = t0 - level` (N,) and the repeat noise sd (N,)."""
        _check_inputs(deviation, level, noise_sd)
        post = np.exp(self._log_posterior(deviation, level, noise_sd))
        return post / post.sum(axis=1, keepdims=True)

    def posterior_moments(
        self, deviation: np.ndarray, level: np.ndarray, noise_sd: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(mean, sd) of the posterior of `delta` (N,) given `d = t0 - level` and the repeat noise sd."""
        return _grid_moments(self.posterior(deviation, level, noise_sd), self.grid)

    def sample(
        self, deviation: np.ndarray, level: np.ndarray, noise_sd: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """(N,) one posterior draw of `delta` per cell (Gumbel-max on the grid, in blocks of rows)."""
        d = np.asarray(deviation, dtype=np.float64)
        _check_inputs(d, level, noise_sd)
        out = np.empty(d.size)
        for rows in _blocks(d.size):
            log_post = self._log_posterior(d[rows], np.asarray(level)[rows], np.asarray(noise_sd)[rows])
            out[rows] = self.grid[np.argmax(log_post + rng.gumbel(size=log_post.shape), axis=1)]
        return out

    def exceedance(
        self,
        margin: np.ndarray,
        level: np.ndarray,
        noise_sd: np.ndarray,
        deviation: np.ndarray | None = None,
        *,
        repeats: int = 1,
    ) -> np.ndarray:
        """(N,) probability that `repeats` new repeats' deviations `delta + noise_sd z` all exceed `margin` (N,).

        Under each cell's prior at `level`, or, given its real repeat-0 deviation `d = t0 - level`, under
        the posterior (new training repeats of the same cell share its `delta`).
        """
        from scipy.special import ndtr

        c, s = np.asarray(margin, dtype=np.float64), np.asarray(noise_sd, dtype=np.float64)
        m = np.asarray(level, dtype=np.float64)
        _check_inputs(c, m, s)
        d = None if deviation is None else np.asarray(deviation, dtype=np.float64)
        out = np.empty(c.size)
        for rows in _blocks(c.size):
            weights = self.cell_prior(m[rows]) if d is None else self.posterior(d[rows], m[rows], s[rows])
            out[rows] = (weights * ndtr((self.grid[None, :] - c[rows, None]) / s[rows, None]) ** repeats).sum(axis=1)
        return out

    # --- fitting and files ---------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        deviation: np.ndarray,
        level: np.ndarray,
        noise_sd: np.ndarray,
        *,
        nodes: tuple[float, ...] = NODE_LEVELS,
        grid: np.ndarray = GRID,
        iterations: int = EM_ITERATIONS,
    ) -> Self:
        """NPMLE of the prior by EM, from real deviations `d = t0 - level` (N,) with repeat noise sd (N,).

        Deterministic given its inputs (EM from uniform weights).

        Raises:
            ValueError: no cells, or a node level that no cell's level is near (its weights would be
                undefined).
        """
        d, s = np.asarray(deviation, dtype=np.float64), np.asarray(noise_sd, dtype=np.float64)
        _check_inputs(d, level, s)
        if d.size == 0:
            raise ValueError("mean prior: no cells to fit on")
        shape = cls(np.asarray(nodes), np.asarray(grid), np.full((len(nodes), len(grid)), 1.0 / len(grid)))
        a = shape.node_weights(level)  # (N, B)
        empty = shape.nodes[a.sum(axis=0) == 0]
        if empty.size:
            raise ValueError(
                f"mean prior: no cell's level is near the node levels {empty.tolist()}; fit on cells that span them"
            )
        log_lik = -0.5 * ((d[:, None] - shape.grid[None, :]) / s[:, None]) ** 2
        lik = np.exp(log_lik - log_lik.max(axis=1, keepdims=True))  # (N, G), scaled per cell
        weights = shape.weights.copy()
        for _ in range(iterations):
            z = np.maximum(((a @ weights) * lik).sum(axis=1), 1e-300)  # (N,) marginal per cell
            weights = weights * (a.T @ (lik / z[:, None]))
            weights /= weights.sum(axis=1, keepdims=True)
        return cls(shape.nodes, shape.grid, weights)

    def save(self, path: str | os.PathLike) -> None:
        """Write `<path>.npz` (nodes, grid, weights) and `<path>.json` (its SHA-256), each atomically."""
        write_npz_artifact(
            path, {"nodes": self.nodes, "grid": self.grid, "weights": self.weights}, {"sha256": self.sha256}
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> Self:
        """Read a prior written by `save`, checking its arrays and checksum.

        Raises:
            DataFormatError: missing, malformed or not matching its recorded checksum.
        """
        arrays, meta = read_npz_artifact(path, "mean prior")
        missing = {"nodes", "grid", "weights"} - set(arrays)
        if missing:
            raise DataFormatError(f"{path}: mean prior lacks {sorted(missing)}")
        prior = cls(arrays["nodes"], arrays["grid"], arrays["weights"])
        if not isinstance(meta, dict) or meta.get("sha256") != prior.sha256:
            raise DataFormatError(f"{path}: mean prior does not match its recorded sha256")
        return prior

    def to_dict(self) -> dict[str, Any]:
        """Summary for metadata: node levels, grid range and the checksum (not the weights)."""
        return {
            "nodes": self.nodes.tolist(),
            "grid": [float(self.grid[0]), float(self.grid[-1]), int(self.grid.size)],
            "sha256": self.sha256,
        }


def _check_inputs(deviation: Any, level: Any, noise_sd: Any) -> None:
    """Raise ValueError on non-finite values, a non-positive noise sd or mismatched lengths."""
    arrays = [np.asarray(a, dtype=np.float64) for a in (deviation, level, noise_sd)]
    if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
        raise ValueError(
            f"mean prior: deviation, level and noise sd must be 1-D of one length, got {[a.shape for a in arrays]}"
        )
    if not all(np.all(np.isfinite(a)) for a in arrays) or np.any(arrays[2] <= 0):
        raise ValueError("mean prior: deviations, levels and noise sds must be finite, noise sds positive")


def _grid_moments(weights: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, sd) of (N, G) distributions on the grid (G,)."""
    mean = weights @ grid
    return mean, np.sqrt(np.maximum(weights @ grid**2 - mean**2, 0.0))


def _blocks(n: int) -> Iterator[slice]:
    for start in range(0, n, BLOCK):
        yield slice(start, min(start + BLOCK, n))
