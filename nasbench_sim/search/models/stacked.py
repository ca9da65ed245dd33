"""The base of the torch surrogates: many independent models fitted as one stacked computation.

A `StackedModel` subclass stores each model's networks as rows of stacked
parameter tensors, and defines `_fit_many` / `_predict_many` on a list of models
of one class and config. `fit`, `predict` and `fit_predict_many` are written
once here: a model alone is a stack of one, and the lock-step runner fits the
surrogates of hundreds of runs in one batched computation (`fit_predict_many`);
a run's result never depends on what else is in the stack. Every random number
(initialisation, mini-batch order, context splits, latent draws) comes from the
model's own numpy stream, so a seed gives the same fit on CPU and GPU up to
floating-point effects.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.models.stacked import group_by_shape, pad_stack
    >>> padded, rows = pad_stack([np.ones((2, 3)), np.ones((4, 3))])
    >>> padded.shape, rows
    ((2, 4, 3), [2, 4])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from nasbench_sim.errors import ConfigError
from nasbench_sim.search.base import FitPredict


def check_positive(config: object, *names: str) -> None:
    """Raise ConfigError naming the first of the config's fields `names` that is below 1."""
    for name in names:
        if getattr(config, name) < 1:
            raise ConfigError(f"{type(config).__name__}.{name} must be >= 1, got {getattr(config, name)}")


def group_by_shape(requests: Sequence[FitPredict]) -> dict[tuple[int, int], list[int]]:
    """Request indices grouped by (training points, features): stacks need equal shapes."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, r in enumerate(requests):
        groups.setdefault(r.X.shape, []).append(i)
    return groups


def pad_stack(arrays: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """(R, max_rows, D) float32 zero-padded stack of (rows_r, D) arrays, and the row counts."""
    rows = [a.shape[0] for a in arrays]
    out = np.zeros((len(arrays), max(rows), arrays[0].shape[1]), dtype=np.float32)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
    return out, rows


class StackedModel(ABC):
    """A surrogate whose models fit and predict together as one stack (see the module docstring).

    Subclasses define `_fit_many(models, Xs, ys)` and `_predict_many(models, Xs)`
    for models of their class and one config, with training sets of one shape.
    """

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Fit on (N, D) encodings and (N,) targets."""
        self._fit_many([self], [X], [y])

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B,) mean and (B,) std for (B, D) encodings.

        Raises:
            RuntimeError: before the first `fit`.
        """
        return self._predict_many([self], [X])[0]

    @classmethod
    def fit_predict_many(cls, requests: Sequence[FitPredict]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Fulfil requests of models of this class, one stack per training-set shape.

        Returns:
            Per request, (mean, std) of its candidates, as `fit` then `predict` of its model alone.
        """
        out: list = [None] * len(requests)
        for idx in group_by_shape(requests).values():
            group = [requests[i] for i in idx]
            models = [r.model for r in group]
            cls._fit_many(models, [r.X for r in group], [r.y for r in group])
            for i, pred in zip(idx, cls._predict_many(models, [r.candidates for r in group]), strict=True):
                out[i] = pred
        return out

    @classmethod
    @abstractmethod
    def _fit_many(cls, models: list, Xs: list[np.ndarray], ys: list[np.ndarray]) -> None:
        """Fit each model on its (N, D) encodings and (N,) targets, all as one stack."""

    @classmethod
    @abstractmethod
    def _predict_many(cls, models: list, Xs: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per model, (mean, std) of its (B_k, D) encodings, all as one stack."""
