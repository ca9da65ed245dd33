import numpy as np
import pytest
from scipy.stats import norm

from nasbench_sim.search.acquisition import expected_improvement, thompson, upper_confidence_bound


def test_ei_closed_form_at_the_incumbent():
    # mean == best: EI = sigma * phi(0) = sigma / sqrt(2 pi).
    assert expected_improvement(np.array([1.0]), np.array([2.0]), 1.0)[0] == pytest.approx(2.0 / np.sqrt(2 * np.pi))


def test_ei_closed_form_off_the_incumbent():
    mean, std, best = 0.5, 0.2, 0.3
    z = (mean - best) / std
    expected = (mean - best) * norm.cdf(z) + std * norm.pdf(z)
    assert expected_improvement(np.array([mean]), np.array([std]), best)[0] == pytest.approx(expected)


def test_ei_with_zero_std_is_the_plain_improvement():
    # Catches division by zero / NaN for points the model is certain about.
    got = expected_improvement(np.array([0.5, 0.1]), np.array([0.0, 0.0]), 0.3)
    assert got.tolist() == pytest.approx([0.2, 0.0])


def test_ucb_is_mean_plus_beta_std():
    assert upper_confidence_bound(np.array([1.0, 0.0]), np.array([0.5, 2.0]), 9.9, beta=2.0).tolist() == [2.0, 4.0]


def test_thompson_draws_around_the_mean():
    draws = thompson(np.full(20000, 1.0), np.full(20000, 0.5), 0.0, np.random.default_rng(0))
    assert draws.mean() == pytest.approx(1.0, abs=0.02) and draws.std() == pytest.approx(0.5, abs=0.02)
