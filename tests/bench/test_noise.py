import dataclasses

import numpy as np
import pytest

from nasbench_sim.bench.noise import DEFAULT_NOISE, CellFeatures, NoiseModel


def test_default_noise_is_the_calibration_on_golden_records(golden):
    fitted = NoiseModel.calibrate(golden)
    for field in dataclasses.fields(NoiseModel):
        assert np.allclose(getattr(fitted, field.name), getattr(DEFAULT_NOISE, field.name), rtol=1e-9), field.name


def _features(n):
    return CellFeatures(np.full(n, 3e6), np.tile([2, 2, 1], (n, 1)), np.full(n, 7))


@pytest.mark.parametrize("anchor", ["repeat0", "mean"])
def test_mean_over_repeats_is_exactly_the_anchor(anchor):
    # Catches modelled noise shifting table means (and hence the optimum and regret).
    a = np.linspace(0.5, 0.94, 200)
    block = DEFAULT_NOISE.sample(a, _features(200), np.random.default_rng(0), anchor=anchor)
    assert block.shape == (200, 3, 1, 2, 4)
    test = block[:, :, 0, 1, 2].astype(np.float64)
    assert np.allclose(test.mean(axis=1), a, atol=1e-6)
    if anchor == "repeat0":
        assert np.allclose(test[:, 0], a, atol=1e-7)


def test_repeat_spread_and_validation_offset_match_calibration():
    n = 20000
    block = DEFAULT_NOISE.sample(np.full(n, 0.9), _features(n), np.random.default_rng(1), anchor="mean")
    test, val = block[:, :, 0, 1, 2], block[:, :, 0, 1, 1]
    assert np.sqrt(test.var(axis=1, ddof=1).mean()) == pytest.approx(DEFAULT_NOISE.test_repeat_sd, rel=0.05)
    assert (val - test).mean() == pytest.approx(DEFAULT_NOISE.val_offset, abs=2e-4)
    halfway_time, final_time = block[:, :, 0, 0, 3], block[:, :, 0, 1, 3]
    assert np.allclose(halfway_time / final_time, DEFAULT_NOISE.halfway_time_ratio, rtol=1e-5)
    assert (block[:, :, 0, 0, 2] <= block[:, :, 0, 1, 2] + 1e-7).all()  # halfway never beats final


def test_sampling_is_seeded():
    a = np.array([0.9, 0.8])
    one = DEFAULT_NOISE.sample(a, _features(2), np.random.default_rng(5), anchor="mean")
    two = DEFAULT_NOISE.sample(a, _features(2), np.random.default_rng(5), anchor="mean")
    assert np.array_equal(one, two)
