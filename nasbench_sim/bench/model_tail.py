"""What the noise model expects of the partial table's top tail, apart from the chance of one draw.

A modelled repeat's count above a threshold is a sum of independent Bernoulli draws, one per cell,
each with the probability `NoiseModel.probability_above` gives; `expected_counts` sums them into the
count's mean and SD (given the real repeat 0, and of repeat 0 itself under the prior), the exact
chance that one world lands within a tolerance of the real count, and that many worlds all do.
`optimum_given_repeat0` draws the table's optimum (best mean of 3) afresh, and `optimum_summary`
places the official optimum in those draws. `cross_fitted` gives noise models whose mean prior was
fitted without the cells they evaluate, so the real values are not used twice.
`benchmarks/exchangeability.py` reports all of them.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench.model_tail import count_distribution
    >>> count_distribution(np.array([0.5, 0.2]), 2).round(2).tolist()
    [0.4, 0.5, 0.1]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from nasbench_sim.bench.exchangeability import THRESHOLDS
from nasbench_sim.bench.mean_prior import MeanPrior
from nasbench_sim.bench.noise import NoiseModel, failed_cells, power_law

#: Thresholds of the expected counts: those of the exchangeability check and the extreme tail of a few dozen cells.
TAIL_THRESHOLDS = (*THRESHOLDS, 0.943, 0.944)
#: The official NB101 optimum: the best mean test accuracy of three repeats at 108 epochs (fraction).
OFFICIAL_OPTIMUM = 0.94318

#: A noise model, or (model, rows) parts that each evaluate only their rows of the space (`cross_fitted`).
Models = NoiseModel | Sequence[tuple[NoiseModel, np.ndarray]]


def count_distribution(probabilities: np.ndarray, upto: int) -> np.ndarray:
    """(upto + 1,) the exact distribution of a sum of independent Bernoulli draws (Poisson-binomial).

    Mass above `upto` is dropped (choose it several SDs above the mean). Cells with a probability
    below 1e-12 are left out.

    Args:
        probabilities: (N,) each draw's probability of a one.
        upto: the largest count kept.
    """
    pmf = np.zeros(upto + 1)
    pmf[0] = 1.0
    for p in np.asarray(probabilities, dtype=np.float64)[np.asarray(probabilities) > 1e-12].tolist():
        pmf[1:] = pmf[1:] * (1.0 - p) + pmf[:-1] * p
        pmf[0] *= 1.0 - p
    return pmf


def refit_prior(noise: NoiseModel, level: np.ndarray, repeat0: np.ndarray, rows: np.ndarray) -> NoiseModel:
    """`noise` with its mean prior refitted (`MeanPrior.fit`) on the trained cells among `rows`."""
    rows = np.asarray(rows)
    rows = rows[~failed_cells(repeat0[rows], level[rows])]
    m = level[rows]
    prior = MeanPrior.fit(repeat0[rows] - m, m, power_law(noise.repeat_sd, m))
    return dataclasses.replace(noise, mean_prior=prior)


def cross_fitted(
    noise: NoiseModel, level: np.ndarray, repeat0: np.ndarray, folds: int, rng: np.random.Generator
) -> list[tuple[NoiseModel, np.ndarray]]:
    """K-fold parts: each fold's rows with `noise` whose prior is refitted on the other folds' trained cells.

    Every cell's posterior then comes from a prior that never saw its own real value, and the prior
    predictive of repeat 0 is an out-of-sample check. The folds are a random partition of all rows.

    Args:
        noise: the model whose repeat sd and other laws are kept.
        level: (N,) structural levels per row.
        repeat0: (N,) real repeat-0 test accuracies per row.
        folds: how many folds (at least 2).
        rng: draws the partition.
    """
    if folds < 2:
        raise ValueError(f"cross-fitting needs at least 2 folds, got {folds}")
    fold = rng.permutation(np.arange(level.size) % folds)
    everything = np.arange(level.size)
    return [(refit_prior(noise, level, repeat0, everything[fold != k]), everything[fold == k]) for k in range(folds)]


def _parts(models: Models, n: int) -> list[tuple[NoiseModel, np.ndarray]]:
    """`models` as (model, rows) parts, checked to cover the rows 0..n-1 once each."""
    parts = [(models, np.arange(n))] if isinstance(models, NoiseModel) else [(m, np.asarray(r)) for m, r in models]
    seen = np.zeros(n, dtype=np.int64)
    for _, rows in parts:
        np.add.at(seen, rows, 1)
    if not np.all(seen == 1):
        raise ValueError("noise-model parts must cover every row exactly once")
    return parts


def _pair_within(mean: float, var: float, rho: float, low: int, high: int) -> float:
    """P(two counts, bivariate normal with this mean, variance and correlation, both in [low, high])."""
    from scipy.stats import multivariate_normal

    if var <= 0:
        return float(low <= mean <= high)
    corner = multivariate_normal([mean, mean], var * np.array([[1.0, rho], [rho, 1.0]])).cdf
    a, b = low - 0.5, high + 0.5  # continuity correction
    return min(max(float(corner([b, b]) - corner([a, b]) - corner([b, a]) + corner([a, a])), 0.0), 1.0)


def expected_counts(
    models: Models,
    level: np.ndarray,
    repeat0: np.ndarray,
    thresholds: Sequence[float] = TAIL_THRESHOLDS,
    *,
    tolerance: float = 0.15,
    realizations: int = 5,
) -> dict[str, dict[str, float]]:
    """The noise model's tail counts without the chance of one draw, and what that chance allows.

    Per threshold (keys as in `exchangeability.counts_above`):

    - `given_repeat0_mean`, `given_repeat0_sd`: a modelled repeat's count given the real
      repeat 0 (its mean and SD over noise realizations; `NoiseModel.probability_above`), and
      `repeat_pair_correlation`, the correlation of the counts of a realization's two modelled
      repeats (they share each cell's drawn mean);
    - `prior_predictive_mean`, `prior_predictive_sd`: the count the model expects of repeat 0
      itself over the cells that trained (failed ones never reach the thresholds), and
      `real_in_sd`, where the real count lies in that distribution (|x| < 2: the model's tail
      agrees with the real one within chance);
    - `p_one_world_within`: the probability that one modelled repeat's count is within
      `tolerance` of the real count (exact, Poisson-binomial), and `p_all_worlds_within`, that
      both repeats of `realizations` independent realizations all are (the pair's counts
      bivariate normal with that correlation, with a continuity correction).

    Args:
        models: the noise model, or cross-fitted parts of it (`cross_fitted`).
        level: (N,) structural levels per row.
        repeat0: (N,) real repeat-0 test accuracies per row.
        thresholds: accuracy thresholds (fractions).
        tolerance: relative tolerance of a world's count.
        realizations: how many realizations (two modelled repeats each) must all be within it.
    """
    level, repeat0 = np.asarray(level, dtype=np.float64), np.asarray(repeat0, dtype=np.float64)
    trained = ~failed_cells(repeat0, level)
    parts = _parts(models, level.size)

    def probability(t: float, given: bool, repeats: int = 1) -> np.ndarray:
        out = np.empty(level.size)
        for model, rows in parts:
            out[rows] = model.probability_above(t, level[rows], repeat0[rows] if given else None, repeats=repeats)
        return out

    out: dict[str, dict[str, float]] = {}
    for t in thresholds:
        real = int((repeat0 > t).sum())
        given, both, prior = probability(t, True), probability(t, True, 2), probability(t, False)[trained]
        mean, var = float(given.sum()), float((given * (1 - given)).sum())
        rho = float((both - given**2).sum() / var) if var > 0 else 0.0
        prior_mean, prior_sd = float(prior.sum()), float(np.sqrt((prior * (1 - prior)).sum()))
        low, high = int(np.ceil(real * (1 - tolerance))), int(np.floor(real * (1 + tolerance)))
        pmf = count_distribution(given, int(max(high, mean + 12 * np.sqrt(var) + 10)))
        out[f"{t:g}"] = {
            "real": real,
            "given_repeat0_mean": mean,
            "given_repeat0_sd": float(np.sqrt(var)),
            "repeat_pair_correlation": rho,
            "prior_predictive_mean": prior_mean,
            "prior_predictive_sd": prior_sd,
            "real_in_sd": (real - prior_mean) / prior_sd if prior_sd > 0 else float("nan"),
            "p_one_world_within": float(pmf[low : high + 1].sum()),
            "p_all_worlds_within": _pair_within(mean, var, rho, low, high) ** realizations,
        }
    return out


def optimum_given_repeat0(
    models: Models, level: np.ndarray, repeat0: np.ndarray, draws: int, rng: np.random.Generator
) -> np.ndarray:
    """(draws,) the best mean-of-3 test accuracy over the space in fresh draws of the modelled repeats.

    The distribution a partial table's optimum has over noise realizations (`sample_test_repeats`,
    cells that trained; a failed one is never the best).

    Args:
        models: the noise model, or cross-fitted parts of it (`cross_fitted`).
        level: (N,) structural levels per row.
        repeat0: (N,) real repeat-0 test accuracies per row.
        draws: how many fresh draws.
        rng: the draws' stream.
    """
    level, repeat0 = np.asarray(level, dtype=np.float64), np.asarray(repeat0, dtype=np.float64)
    trained = ~failed_cells(repeat0, level)
    parts = [(model, rows[trained[rows]]) for model, rows in _parts(models, level.size)]
    parts = [(model, rows) for model, rows in parts if rows.size]

    def best() -> float:
        return max(float(m.sample_test_repeats(repeat0[r], level[r], rng).mean(axis=1).max()) for m, r in parts)

    return np.array([best() for _ in range(draws)])


def optimum_summary(draws: np.ndarray, realizations: int, within: float = 0.0005) -> dict[str, float]:
    """The drawn optima (`optimum_given_repeat0`, fractions) against `OFFICIAL_OPTIMUM`, in percent.

    `p_one_within` is the share of draws within `within` of the official optimum, and
    `p_all_within` that probability for `realizations` independent realizations.
    """
    pct = 100 * np.asarray(draws, dtype=np.float64)
    share = float((np.abs(pct - 100 * OFFICIAL_OPTIMUM) <= 100 * within + 1e-9).mean())
    return {
        "draws": int(pct.size),
        "mean_pct": float(pct.mean()),
        "sd_pct": float(pct.std(ddof=1)) if pct.size > 1 else float("nan"),
        "official_pct": 100 * OFFICIAL_OPTIMUM,
        "official_quantile": float((pct < 100 * OFFICIAL_OPTIMUM).mean()),
        "p_one_within": share,
        "p_all_within": share**realizations,
    }
