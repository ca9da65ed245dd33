"""naszilla's GP-BO surrogate: a Gaussian process on the Hamming distance between integer encodings.

The kernel is `alpha^2 exp(-d / ls^2)` on the number `d` of differing entries of two
cells' encodings (GP-BO uses the raw categorical one), with fixed hyper-parameters
and standardised targets; exact regression by Cholesky factorisation.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.models.gp import DistanceGP, DistanceGPConfig
    >>> gp = DistanceGP(DistanceGPConfig(), np.random.default_rng(0))
    >>> gp.fit(np.array([[0, 0], [1, 1]]), np.array([1.0, 3.0]))
    >>> mean, std = gp.predict(np.array([[0, 0], [0, 1]])); round(float(mean[0]), 3), bool(std[1] > std[0])
    (1.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from nasbench_sim.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class DistanceGPConfig:
    """naszilla's GP (`pp_gp_my_distmat`): kernel `alpha^2 exp(-d / ls^2)`, fixed hyper-parameters.

    Attributes:
        lengthscale: ls (naszilla: 3).
        alpha: kernel scale (naszilla: 1.5).
        noise: observation noise sd on standardised targets (naszilla: 1e-5).
    """

    lengthscale: float = 3.0
    alpha: float = 1.5
    noise: float = 1e-5

    def __post_init__(self) -> None:
        if min(self.lengthscale, self.alpha) <= 0 or self.noise < 0:
            raise ConfigError("DistanceGPConfig needs lengthscale > 0, alpha > 0, noise >= 0")


class DistanceGP:
    """Exact GP regression on Hamming distances of integer encodings (see `DistanceGPConfig`)."""

    def __init__(self, config: DistanceGPConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        # rng and device: the surrogate constructor contract; the GP draws nothing and runs on numpy.
        self.config = config
        self._fitted: tuple[np.ndarray, np.ndarray, np.ndarray, float, float] | None = None

    def _kernel(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        distance = (a[:, None, :] != b[None, :, :]).sum(axis=2)
        return self.config.alpha**2 * np.exp(-distance / self.config.lengthscale**2)

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Condition on (N, D) integer encodings and (N,) targets."""
        y = np.asarray(y, dtype=np.float64)
        mu, sd = float(y.mean()), float(y.std()) or 1.0
        k = self._kernel(X, X) + (self.config.noise**2 + 1e-10) * np.eye(len(X))
        try:
            chol = scipy.linalg.cholesky(k, lower=True)
        except np.linalg.LinAlgError:  # duplicate cells: add jitter until positive definite
            chol = scipy.linalg.cholesky(k + 1e-6 * self.config.alpha**2 * np.eye(len(X)), lower=True)
        alpha = scipy.linalg.cho_solve((chol, True), (y - mu) / sd)
        self._fitted = (np.asarray(X), chol, alpha, mu, sd)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B,) posterior mean and (B,) std, in target units, of (B, D) encodings.

        Raises:
            RuntimeError: before the first `fit`.
        """
        if self._fitted is None:
            raise RuntimeError("predict before fit")
        train, chol, alpha, mu, sd = self._fitted
        cross = self._kernel(np.asarray(X), train)
        mean = cross @ alpha
        v = scipy.linalg.solve_triangular(chol, cross.T, lower=True)
        var = np.maximum(self.config.alpha**2 - (v**2).sum(axis=0), 0.0)
        return mu + sd * mean, sd * np.sqrt(var)
