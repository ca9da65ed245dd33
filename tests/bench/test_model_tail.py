import dataclasses

import numpy as np
import pytest

from nasbench_sim.bench.mean_prior import MeanPrior
from nasbench_sim.bench.model_tail import (
    count_distribution,
    cross_fitted,
    expected_counts,
    optimum_given_repeat0,
    optimum_summary,
    refit_prior,
)
from nasbench_sim.bench.noise import DEFAULT_NOISE, power_law


def test_expected_counts_sum_the_model_tail_probabilities():
    # Closed form on two trained cells and a failed one: each count is the sum of the cells' probabilities.
    level, repeat0 = np.array([0.93, 0.935, 0.90]), np.array([0.94, 0.93, 0.10])
    found = expected_counts(DEFAULT_NOISE, level, repeat0, (0.938,), tolerance=0.15, realizations=3)["0.938"]
    given = DEFAULT_NOISE.probability_above(0.938, level, repeat0)
    assert found["given_repeat0_mean"] == pytest.approx(given.sum()) and given[2] == 0.0
    assert found["given_repeat0_sd"] == pytest.approx(np.sqrt((given * (1 - given)).sum()))
    prior = DEFAULT_NOISE.probability_above(0.938, level[:2])
    assert found["prior_predictive_mean"] == pytest.approx(prior.sum())
    # One real cell above: a world is within 15% only with exactly one cell above (0.85-1.15 of 1).
    one = given[0] * (1 - given[1]) + given[1] * (1 - given[0])
    assert found["real"] == 1 and found["p_one_world_within"] == pytest.approx(one)
    # Two repeats sharing a drawn mean are positively correlated (uncertain means), never more than fully.
    assert 0 < found["repeat_pair_correlation"] < 1 and 0 <= found["p_all_worlds_within"] <= 1


def test_repeats_sharing_a_mean_are_correlated_as_the_posterior_spread_says():
    # Closed form: with a known mean (one grid atom) two repeats are independent; with an uncertain
    # mean P(both above) exceeds P(above)^2.
    level, repeat0 = np.array([0.93]), np.array([0.933])
    atom = dataclasses.replace(DEFAULT_NOISE, mean_prior=MeanPrior(np.array([0.93]), np.array([0.0]), np.ones((1, 1))))
    one, two = atom.probability_above(0.935, level, repeat0), atom.probability_above(0.935, level, repeat0, repeats=2)
    assert two[0] == pytest.approx(one[0] ** 2)
    one, two = (DEFAULT_NOISE.probability_above(0.935, level, repeat0, repeats=k) for k in (1, 2))
    assert two[0] > one[0] ** 2


def test_count_distribution_is_the_exact_poisson_binomial():
    # Closed form: two draws with p = 0.5 and 0.2 give 0, 1, 2 ones with 0.4, 0.5, 0.1.
    assert count_distribution(np.array([0.5, 0.2, 0.0]), 3) == pytest.approx([0.4, 0.5, 0.1, 0.0])
    many = count_distribution(np.full(200, 0.3), 200)
    assert many.sum() == pytest.approx(1.0) and np.argmax(many) == 60


def test_a_tail_count_of_sixty_rarely_lands_within_15_percent_in_ten_worlds():
    # The chance bound of issue 23's count goal: an exactly fitted model (mean 60) still misses it.
    pmf = count_distribution(np.full(6000, 0.01), 200)
    one = pmf[51:70].sum()
    assert 0.7 < one < 0.8 and one**10 < 0.1


def test_the_optimum_draws_are_seeded_and_bounded_by_the_cells():
    level, repeat0 = np.array([0.93, 0.935, 0.90]), np.array([0.94, 0.93, 0.10])
    first = optimum_given_repeat0(DEFAULT_NOISE, level, repeat0, 5, np.random.default_rng(0))
    assert np.array_equal(first, optimum_given_repeat0(DEFAULT_NOISE, level, repeat0, 5, np.random.default_rng(0)))
    assert first.shape == (5,) and np.all((first > 0.9) & (first < 0.96))


def test_optimum_summary_places_the_official_optimum_closed_form():
    summary = optimum_summary(np.array([0.9428, 0.9430, 0.9440, 0.9450]), realizations=2)
    assert summary["official_quantile"] == 0.5 and summary["p_one_within"] == 0.5
    assert summary["p_all_within"] == 0.25 and summary["mean_pct"] == pytest.approx(94.37)


def _synthetic(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Levels over the prior's nodes (80-94.5%), repeat-0 values around them, the first cell 2 points above."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(0.80, 0.945, n)
    level[0] = 0.93
    repeat0 = level + 1.3 * power_law(DEFAULT_NOISE.repeat_sd, level) * rng.standard_normal(n)
    repeat0[0] = level[0] + 0.02
    return level, repeat0


def test_cross_fitted_parts_cover_every_row_once_and_leave_their_rows_out():
    level, repeat0 = _synthetic()
    parts = cross_fitted(DEFAULT_NOISE, level, repeat0, 2, np.random.default_rng(1))
    rows = np.sort(np.concatenate([r for _, r in parts]))
    assert np.array_equal(rows, np.arange(level.size)) and len(parts) == 2
    model, held = parts[0]
    others = np.setdiff1d(np.arange(level.size), held)
    assert model.mean_prior.sha256 == refit_prior(DEFAULT_NOISE, level, repeat0, others).mean_prior.sha256


def test_an_in_sample_prior_uses_an_outliers_own_value_twice():
    # The bug cross-fitting removes: a prior fitted on a cell's own value keeps an atom at its
    # deviation, so the posterior keeps most of a 2-point outlier; a prior fitted without it shrinks it.
    level, repeat0 = _synthetic()
    sd = power_law(DEFAULT_NOISE.repeat_sd, level[:1])
    inside = refit_prior(DEFAULT_NOISE, level, repeat0, np.arange(level.size)).mean_prior
    held_out = next(
        m for m, rows in cross_fitted(DEFAULT_NOISE, level, repeat0, 2, np.random.default_rng(1)) if 0 in rows
    )
    kept = [p.posterior_moments(np.array([0.02]), level[:1], sd)[0][0] / 0.02 for p in (inside, held_out.mean_prior)]
    assert kept[0] > 0.5 > kept[1]


def test_parts_that_share_one_model_give_the_single_models_counts():
    level, repeat0 = np.array([0.93, 0.935, 0.90, 0.94]), np.array([0.94, 0.93, 0.10, 0.941])
    whole = expected_counts(DEFAULT_NOISE, level, repeat0, (0.938,))
    split = expected_counts(
        [(DEFAULT_NOISE, np.array([3, 0])), (DEFAULT_NOISE, np.array([1, 2]))], level, repeat0, (0.938,)
    )
    assert split["0.938"] == pytest.approx(whole["0.938"])
    with pytest.raises(ValueError, match="exactly once"):
        expected_counts([(DEFAULT_NOISE, np.array([0, 1]))], level, repeat0, (0.938,))
