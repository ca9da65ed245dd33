import dataclasses

import numpy as np
import pytest

from nasbench_sim.bench.noise import DEFAULT_NOISE, CellFeatures, NoiseModel, power_law
from nasbench_sim.bench.noise_fit import calibrate

from ..conftest import shared_file


def _features(n):
    return CellFeatures(np.full(n, 3e6), np.tile([2, 2, 1], (n, 1)), np.full(n, 7))


def test_default_noise_is_the_calibration_on_the_real_data(space):
    # Catches hand-edited or stale constants: refit from ../shared and compare every field.
    from nasbench_sim.bench.calibration import CALIBRATION_SAMPLE, load_calibration_data
    from nasbench_sim.bench.sources import surrogate_level

    repeat0 = np.load(shared_file("nb101", "test108_repeat0.npy"))
    shared_file("nb101", "validation_budgets_20k.csv.gz")
    data = load_calibration_data(space, surrogate_level(space), repeat0)
    assert data.repeat0.size == CALIBRATION_SAMPLE and data.val_repeat0.size > 15_000
    fitted = calibrate(data)
    for field in dataclasses.fields(NoiseModel):
        got, shipped = getattr(fitted, field.name), getattr(DEFAULT_NOISE, field.name)
        if field.name == "mean_prior":
            assert np.array_equal(got.nodes, shipped.nodes) and np.array_equal(got.grid, shipped.grid)
            assert np.allclose(got.weights, shipped.weights, atol=1e-4), field.name
        else:
            assert np.allclose(got, shipped, rtol=1e-3, atol=1e-6), field.name


def test_noise_falls_with_accuracy_as_in_the_real_records():
    # NB101's repeat-to-repeat sd is about 0.6 points near 86% and 0.22-0.3 near 93% (golden
    # records / the 20k validation values); catches a constant sd or one that rises with accuracy.
    sd = power_law(DEFAULT_NOISE.repeat_sd, np.array([0.86, 0.90, 0.93]))
    assert 0.005 < sd[0] < 0.007 and 0.002 < sd[2] < 0.0032 and sd[0] > sd[1] > sd[2]


def test_partial_sampling_keeps_repeat0_and_shrinks_towards_the_prior():
    # Catches repeats 1-2 centred on the noisy repeat 0 (a stretched top tail and a too-high optimum).
    n = 20000
    level = np.full(n, 0.93)
    repeat0 = np.full(n, 0.94)  # one point above the prior: mostly a lucky repeat
    block = DEFAULT_NOISE.sample_partial(repeat0, level, _features(n), np.random.default_rng(0))
    assert block.shape == (n, 3, 1, 2, 4)
    test = block[:, :, 0, 1, 2].astype(np.float64)
    assert np.array_equal(test[:, 0], repeat0.astype(np.float32))
    posterior, _ = DEFAULT_NOISE.posterior_mean(repeat0[:1], level[:1])
    assert 0.93 < posterior[0] < 0.94
    assert test[:, 1:].mean() == pytest.approx(posterior[0], abs=3e-4)


def test_modelled_repeats_have_the_real_repeats_spread_around_the_level():
    # Catches the thin top of issue 23: repeats drawn around a shrunken Gaussian posterior had
    # a spread around the level 16% below the real repeat 0's. With the mean drawn from its
    # posterior under the shipped prior, a modelled repeat's deviation from the level has the
    # real deviation's spread (posterior predictive), here for real-like deviations drawn from
    # the prior itself.
    rng = np.random.default_rng(3)
    n = 40000
    level = np.full(n, 0.93)
    prior = DEFAULT_NOISE.mean_prior.cell_prior(level[:1])[0]
    delta = rng.choice(DEFAULT_NOISE.mean_prior.grid, size=n, p=prior)
    repeat0 = level + delta + power_law(DEFAULT_NOISE.repeat_sd, level) * rng.standard_normal(n)
    block = DEFAULT_NOISE.sample_partial(repeat0, level, _features(n), np.random.default_rng(4))
    modelled = block[:, 1:, 0, 1, 2].astype(np.float64) - level[:, None]
    real = repeat0 - level
    assert modelled.std() == pytest.approx(real.std(), rel=0.03)
    for q in (0.01, 0.99, 0.999):  # both tails, the skewed lower one included
        assert np.quantile(modelled, q) == pytest.approx(np.quantile(real, q), abs=0.0012)


def test_probability_above_is_what_the_sampled_repeats_show():
    # The expected tail count must be the mean of the drawn one (a mismatch would blame the draw for the model).
    n = 40000
    level = np.full(n, 0.932)
    repeat0 = np.concatenate([np.full(n // 2, 0.936), np.full(n // 2, 0.10)])  # a good run and a failed one
    block = DEFAULT_NOISE.sample_partial(repeat0, level, _features(n), np.random.default_rng(5))
    drawn = block[:, 1:, 0, 1, 2].astype(np.float64)
    for threshold in (0.935, 0.938, 0.10):
        expected = DEFAULT_NOISE.probability_above(threshold, level, repeat0)
        for part in (slice(0, n // 2), slice(n // 2, n)):
            assert (drawn[part] > threshold).mean() == pytest.approx(expected[part].mean(), abs=0.01)
    prior_predictive = DEFAULT_NOISE.probability_above(0.938, level[:1])[0]
    assert 0 < prior_predictive < DEFAULT_NOISE.probability_above(0.938, level[:1], repeat0[:1])[0]


def test_test_repeats_alone_are_the_partial_tables_draws():
    # The optimum's distribution is drawn with sample_test_repeats: it must be the tables' own draw.
    n = 500
    level, repeat0 = np.full(n, 0.93), np.linspace(0.90, 0.945, n)
    block = DEFAULT_NOISE.sample_partial(repeat0, level, _features(n), np.random.default_rng(8))
    alone = DEFAULT_NOISE.sample_test_repeats(repeat0, level, np.random.default_rng(8))
    assert np.allclose(alone, block[:, :, 0, 1, 2], atol=1e-7)


def test_failed_cells_keep_their_repeat0_as_mean():
    # A cell whose real run failed (10% accuracy) must not be given good modelled repeats.
    mean, sd = DEFAULT_NOISE.posterior_mean(np.array([0.10]), np.array([0.90]))
    assert mean[0] == pytest.approx(0.10) and sd[0] == 0.0


def test_mean_over_repeats_is_exactly_the_given_mean():
    # Catches modelled noise shifting surrogate-table means (and hence the optimum and regret).
    a = np.linspace(0.85, 0.94, 200)
    block = DEFAULT_NOISE.sample_around_mean(a, _features(200), np.random.default_rng(0))
    assert np.allclose(block[:, :, 0, 1, 2].astype(np.float64).mean(axis=1), a, atol=1e-6)


def test_validation_minus_test_has_the_calibrated_offset_and_spread():
    n = 40000
    level = np.full(n, 0.92)
    block = DEFAULT_NOISE.sample_around_mean(level, _features(n), np.random.default_rng(1))
    test, val = block[:, :, 0, 1, 2].astype(np.float64), block[:, :, 0, 1, 1].astype(np.float64)
    scales = DEFAULT_NOISE.scales(level[:1])
    assert (val - test).mean() == pytest.approx(scales["val_offset"][0], abs=2e-4)
    assert (val - test).std() == pytest.approx(scales["val_residual_sd"][0], rel=0.05)
    # Validation tracks the run's quality: across repeats it correlates with test accuracy.
    assert (
        np.corrcoef((test - test.mean(1, keepdims=True)).ravel(), (val - val.mean(1, keepdims=True)).ravel())[0, 1]
        > 0.5
    )
    halfway_time, final_time = block[:, :, 0, 0, 3], block[:, :, 0, 1, 3]
    assert np.allclose(halfway_time / final_time, DEFAULT_NOISE.halfway_time_ratio, rtol=1e-5)
    assert (block[:, :, 0, 0, 2] <= block[:, :, 0, 1, 2] + 1e-7).all()  # halfway never beats final


def test_sampling_is_seeded():
    a = np.array([0.9, 0.8])
    one = DEFAULT_NOISE.sample_around_mean(a, _features(2), np.random.default_rng(5))
    two = DEFAULT_NOISE.sample_around_mean(a, _features(2), np.random.default_rng(5))
    assert np.array_equal(one, two)
