"""Informativeness scores and the data regimes compared by the study.

Scores take (N, K) predicted class probabilities (rows sum to 1) and (N,)
labels, and return (N,) scores where higher means more informative:

- `l1`: sum_k |y_k - p_k| between the one-hot label and the probabilities
  (equals 2 * (1 - p_label)); the strategy under test;
- `entropy`: predictive entropy -sum_k p_k log p_k (label-free);
- `margin`: 1 - (p_top1 - p_top2) (label-free).

Regimes (fractions of the training set, defaults 25% + 25%):
`full` all of it; `active` a random part plus the top-scored part of the rest by
`l1` under a reference model trained on the random part; `random` a random
subset of the same size; `entropy` like `active` but scored by entropy.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.activesel.selection import l1_score
    >>> l1_score(np.array([[0.7, 0.2, 0.1]]), np.array([0])).round(6).tolist()  # |1-.7| + .2 + .1
    [0.6]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbench_sim.errors import ConfigError


def l1_score(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    onehot = np.eye(probs.shape[1], dtype=np.float64)[labels]
    return np.abs(onehot - probs).sum(axis=1)


def entropy_score(probs: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    p = np.clip(probs, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def margin_score(probs: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    top2 = np.sort(probs, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


SCORES = {"l1": l1_score, "entropy": entropy_score, "margin": margin_score}
#: regime -> score used to pick the informative part (None: no reference model needed).
REGIMES = {"full": None, "active": "l1", "random": None, "entropy": "entropy", "margin": "margin"}


@dataclass(frozen=True, kw_only=True)
class SelectionConfig:
    """Fractions of the training set: the random part and the informative part added to it."""

    random_fraction: float = 0.25
    informative_fraction: float = 0.25

    def __post_init__(self) -> None:
        if not (
            0 < self.random_fraction < 1
            and 0 < self.informative_fraction
            and self.random_fraction + self.informative_fraction <= 1
        ):
            raise ConfigError("need 0 < random_fraction < 1, informative_fraction > 0, and their sum <= 1")


def random_part(n: int, config: SelectionConfig, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of the random part (reference model's training set)."""
    return np.sort(rng.choice(n, size=max(1, round(config.random_fraction * n)), replace=False))


def informative_subset(
    base: np.ndarray,
    probs_rest: np.ndarray,
    labels_rest: np.ndarray,
    rest: np.ndarray,
    n: int,
    config: SelectionConfig,
    score: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Base indices plus the top-scored remaining ones.

    Args:
        base: indices of the random part.
        probs_rest: (R, K) reference-model probabilities of the remaining samples.
        labels_rest: (R,) their labels.
        rest: (R,) their indices.
        n: training-set size (fractions are of it).
        config: fractions.
        score: name in `SCORES`.

    Returns:
        (sorted subset indices, chosen indices in score order, their scores).
    """
    if score not in SCORES:
        raise ConfigError(f"unknown score {score!r} (choices: {', '.join(SCORES)})")
    scores = SCORES[score](probs_rest, labels_rest)
    k = min(len(rest), max(1, round(config.informative_fraction * n)))
    top = np.argsort(-scores, kind="stable")[:k]
    return np.sort(np.concatenate([base, rest[top]])), rest[top], scores[top]


def random_subset(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n, size=size, replace=False))
