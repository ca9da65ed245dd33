"""Informativeness scores, subset selectors and the data regimes the study compares.

Scores take (N, K) predicted class probabilities (rows sum to 1) and (N,)
integer labels and return (N,) scores; higher means more informative:

- `l1`: sum_k |y_k - p_k| between the one-hot label and the probabilities
  (equals 2 * (1 - p_label)); the strategy under test;
- `el2n`: ||p - y||_2 (Paul et al. 2021, "Deep learning on a data diet"); the
  study averages it over several reference models;
- `entropy`: predictive entropy -sum_k p_k ln p_k (label-free);
- `margin`: 1 - (p_top1 - p_top2) (label-free).

Every subset regime starts from the same random part of the pool (the
reference models' training set, 25% by default) and adds an informative part
from the remaining samples (25% of the pool by default); see `REGIMES`. All
random draws come from numpy generators the caller seeds on the CPU, so a seed
gives the same random parts on any device.

The compute-matched control is `compute-matched`: the whole pool, trained for
as many SGD steps as `active` (half of full data's at the default fractions),
rather than "a random 50% for twice the epochs", because the claim under
test is about cost: the fair competitor of a subset that halves the compute is
the same halved compute spent on all the data. A random 50% for two epochs
would match full data's compute instead and ask another question (less data
at equal compute); `random` already isolates the choice of samples at equal
size and steps.

`REGIMES` is the one home of every fact about a regime: its name, how it
builds its training set, its colour in the figures and whether a study runs
it by default.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.activesel.selection import l1_score
    >>> l1_score(np.array([[0.7, 0.2, 0.1]]), np.array([0])).round(6).tolist()  # |1-.7| + .2 + .1
    [0.6]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nasbench_sim.errors import ConfigError


def _onehot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float64)[labels]


def l1_score(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.abs(_onehot(labels, probs.shape[1]) - probs).sum(axis=1)


def el2n_score(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.linalg.norm(probs - _onehot(labels, probs.shape[1]), axis=1)


def entropy_score(probs: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    p = np.clip(probs, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def margin_score(probs: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    top2 = np.sort(probs, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


SCORES = {"l1": l1_score, "el2n": el2n_score, "entropy": entropy_score, "margin": margin_score}


@dataclass(frozen=True, kw_only=True)
class Regime:
    """How a regime builds its training set, and how the report draws it.

    Attributes:
        name: short key used in files and tables.
        description: one line for reports.
        subset: 'all' (the whole pool), 'random-part' (the random part alone),
            'random' (random part + a random extra part), 'top' (random part +
            the top-scored remaining samples) or 'entropy-hist' (random part +
            Na et al.'s entropy-histogram sample of the remaining samples).
        colour: its colour in every figure (a matplotlib colour, colour-blind-safe palette).
        score: the score ranking the remaining samples ('top' only).
        references: reference models the selection needs: 0, 1 (the first) or
            -1 (all of them, `SelectionConfig.reference_models`).
        matched_steps: train for as many SGD steps as a run on a random+informative
            subset (the compute-matched control) instead of whole epochs.
        default: a study runs it unless its regimes are given (`config.DEFAULT_REGIMES`).
    """

    name: str
    description: str
    subset: str
    colour: str
    score: str | None = None
    references: int = 0
    matched_steps: bool = False
    default: bool = True


#: Every regime by name, in the order of the tables and figures.
REGIMES: dict[str, Regime] = {
    r.name: r
    for r in (
        Regime(name="full", description="the whole pool", subset="all", colour="#000000"),
        Regime(
            name="active",
            description="random part + top remaining samples by L1 error under the reference",
            subset="top",
            colour="#D55E00",
            score="l1",
            references=1,
        ),
        Regime(
            name="random",
            description="random part + a random extra part of the same size as active's",
            subset="random",
            colour="#0072B2",
        ),
        Regime(
            name="random-part",
            description="the random part alone (the reference's training set)",
            subset="random-part",
            colour="#56B4E9",
        ),
        Regime(
            name="el2n",
            description="random part + top remaining samples by EL2N averaged over the references",
            subset="top",
            colour="#CC79A7",
            score="el2n",
            references=-1,
        ),
        Regime(
            name="entropy-hist",
            description="random part + Na et al. 2021 entropy-histogram sample of the rest",
            subset="entropy-hist",
            colour="#009E73",
            references=1,
        ),
        Regime(
            name="compute-matched",
            description="the whole pool, trained for as many SGD steps as active",
            subset="all",
            colour="#E69F00",
            matched_steps=True,
        ),
        Regime(
            name="entropy",
            description="random part + top remaining samples by predictive entropy",
            subset="top",
            colour="#999999",
            score="entropy",
            references=1,
            default=False,
        ),
        Regime(
            name="margin",
            description="random part + top remaining samples by small top-2 margin",
            subset="top",
            colour="#F0E442",
            score="margin",
            references=1,
            default=False,
        ),
    )
}


@dataclass(frozen=True, kw_only=True)
class SelectionConfig:
    """How subsets are built.

    Attributes:
        random_fraction: random part, as a fraction of the pool (the reference models' training set).
        informative_fraction: part added from the remaining samples, as a fraction of the pool.
        reference_models: reference models (different initialisations, same random part) whose
            EL2N scores are averaged; the first one alone scores L1, entropy and margin.
        histogram_bin_width: width of the entropy-histogram bins in log10(entropy / nats)
            (Na et al. use 0.5 on CIFAR-10).
    """

    random_fraction: float = 0.25
    informative_fraction: float = 0.25
    reference_models: int = 4
    histogram_bin_width: float = 0.5

    def __post_init__(self) -> None:
        if not (
            0 < self.random_fraction < 1
            and 0 < self.informative_fraction
            and self.random_fraction + self.informative_fraction <= 1
        ):
            raise ConfigError("need 0 < random_fraction < 1, informative_fraction > 0, and their sum <= 1")
        if self.reference_models < 1:
            raise ConfigError(f"reference_models must be >= 1, got {self.reference_models}")
        if not self.histogram_bin_width > 0:
            raise ConfigError(f"histogram_bin_width must be > 0, got {self.histogram_bin_width}")

    def random_size(self, n: int) -> int:
        """Size of the random part of an `n`-sample pool (at least 1, at most n - 1)."""
        return min(max(1, round(self.random_fraction * n)), n - 1)

    def informative_size(self, n: int) -> int:
        """Size of the part added to the random part (at least 1, at most what remains)."""
        return min(max(1, round(self.informative_fraction * n)), n - self.random_size(n))


def random_part(n: int, config: SelectionConfig, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of the random part of an `n`-sample pool."""
    if n < 2:
        raise ConfigError(f"the pool needs at least 2 samples, got {n}")
    return np.sort(rng.choice(n, size=config.random_size(n), replace=False))


def top_scored(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the `k` highest scores, highest first (ties: lower position first)."""
    return np.argsort(-scores, kind="stable")[:k]


def entropy_histogram_sample(entropy: np.ndarray, k: int, bin_width: float, rng: np.random.Generator) -> np.ndarray:
    """Na et al. 2021's probabilistic selector (their P1): positions of `k` samples.

    Samples are binned by log10 of their entropy (bins of `bin_width`); a
    non-empty bin with c samples gets weight max_c - c + 1, shared evenly by its
    samples, so sparse bins (very easy and very hard samples) are kept at a
    much higher rate than the dense middle. Drawn without replacement.

    Args:
        entropy: (R,) predictive entropies in nats.
        k: samples to draw (<= R).
        bin_width: bin width in log10 units.
        rng: the caller's random stream.

    Returns:
        (k,) positions into `entropy`, in draw order.
    """
    bins = np.floor(np.log10(np.clip(entropy, 1e-12, None)) / bin_width).astype(np.int64)
    _, inverse, counts = np.unique(bins, return_inverse=True, return_counts=True)
    bin_weight = (counts.max() - counts + 1) / counts  # per sample of the bin
    p = bin_weight[inverse]
    return rng.choice(len(entropy), size=k, replace=False, p=p / p.sum())


@dataclass(frozen=True)
class Subset:
    """A regime's training set.

    Attributes:
        indices: (M,) sorted pool indices.
        added: (A,) indices added to the random part, in selection order (highest score
            first for 'top'), empty for regimes without an added part.
        added_scores: (A,) their scores (NaN-free; zeros where the regime has no score).
    """

    indices: np.ndarray
    added: np.ndarray
    added_scores: np.ndarray


def build_subsets(
    regimes: Sequence[str],
    labels: np.ndarray,
    base: np.ndarray,
    reference_probs: np.ndarray | None,
    config: SelectionConfig,
    rng: np.random.Generator,
) -> dict[str, Subset]:
    """Every requested regime's training set.

    Args:
        regimes: names in `REGIMES`.
        labels: (N,) labels of the pool.
        base: (B,) sorted indices of the random part.
        reference_probs: (K, R, C) probabilities of the R = N - B remaining samples (in
            increasing index order) under K reference models; None when no regime needs them.
        config: fractions and selector settings.
        rng: seeds the random extra part and the histogram sample (one spawned stream each).

    Returns:
        name -> Subset.
    """
    n = len(labels)
    rest = np.setdiff1d(np.arange(n), base)
    k = min(config.informative_size(n), len(rest))
    extra_rng, histogram_rng = rng.spawn(2)  # independent streams: adding a regime changes no other subset
    random_extra = extra_rng.choice(rest, size=k, replace=False)
    empty = np.zeros(0, dtype=np.int64)
    out: dict[str, Subset] = {}
    for name in regimes:
        regime = REGIMES[name]
        if regime.references and reference_probs is None:
            raise ConfigError(f"regime {name!r} needs reference-model probabilities")
        if regime.subset == "all":
            out[name] = Subset(np.arange(n), empty, np.zeros(0))
            continue
        if regime.subset == "random-part":
            out[name] = Subset(base.copy(), empty, np.zeros(0))
            continue
        if regime.subset == "random":
            added, scores = random_extra, np.zeros(k)
        elif regime.subset == "top":
            probs = reference_probs if regime.references == -1 else reference_probs[:1]
            all_scores = np.mean([SCORES[regime.score](p, labels[rest]) for p in probs], axis=0)
            order = top_scored(all_scores, k)
            added, scores = rest[order], all_scores[order]
        elif regime.subset == "entropy-hist":
            entropy = entropy_score(reference_probs[0])
            order = entropy_histogram_sample(entropy, k, config.histogram_bin_width, histogram_rng)
            added, scores = rest[order], entropy[order]
        else:  # pragma: no cover - REGIMES is fixed above
            raise ConfigError(f"unknown subset kind {regime.subset!r}")
        out[name] = Subset(np.sort(np.concatenate([base, added])), added, scores)
    return out
