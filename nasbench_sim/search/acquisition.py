"""Acquisition functions: each maps (mean, std, best) to a score to maximise.

Arrays are (B,) predictions for B candidates in the surrogate's target units
(higher is better); `best` is the best observed target value. `ACQUISITIONS`
wraps them with the common keyword arguments `rng` and `beta` that a searcher
passes to whichever it uses.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.acquisition import expected_improvement, upper_confidence_bound
    >>> float(expected_improvement(np.array([0.0]), np.array([1.0]), 0.0)[0])  # = 1/sqrt(2 pi)
    0.3989422804014327
    >>> float(upper_confidence_bound(np.array([1.0]), np.array([0.5]), 0.0, beta=2.0)[0])
    2.0
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import norm


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """E[max(f - best - xi, 0)] for f ~ N(mean, std^2); exact improvement where std = 0."""
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    gain = mean - best - xi
    safe = np.maximum(std, 1e-12)
    z = gain / safe
    ei = gain * norm.cdf(z) + safe * norm.pdf(z)
    return np.where(std > 0, ei, np.maximum(gain, 0.0))


def upper_confidence_bound(mean: np.ndarray, std: np.ndarray, best: float, beta: float = 2.0) -> np.ndarray:
    """mean + beta * std (`best` unused; kept for the common signature)."""
    return np.asarray(mean, dtype=np.float64) + beta * np.asarray(std, dtype=np.float64)


def thompson(mean: np.ndarray, std: np.ndarray, best: float, rng: np.random.Generator) -> np.ndarray:
    """Independent Thompson sampling: one draw from N(mean, std^2) per candidate (BANANAS' ITS)."""
    return np.asarray(mean, dtype=np.float64) + np.asarray(std, dtype=np.float64) * rng.standard_normal(np.shape(mean))


def random_score(mean: np.ndarray, std: np.ndarray, best: float, rng: np.random.Generator) -> np.ndarray:
    """A uniform random score: the model is ignored (an ablation: the pool alone)."""
    return rng.random(np.shape(mean))


#: name -> acquisition with keyword arguments `rng` and `beta` (each uses what it needs).
ACQUISITIONS: dict[str, Callable[..., np.ndarray]] = {
    "its": lambda mean, std, best, *, rng, beta: thompson(mean, std, best, rng),
    "ucb": lambda mean, std, best, *, rng, beta: upper_confidence_bound(mean, std, best, beta),
    "ei": lambda mean, std, best, *, rng, beta: expected_improvement(mean, std, best),
    "mean": lambda mean, std, best, *, rng, beta: np.asarray(mean, dtype=np.float64),
    "random": lambda mean, std, best, *, rng, beta: random_score(mean, std, best, rng),
}
