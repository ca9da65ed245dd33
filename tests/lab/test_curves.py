import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.lab.curves import extrapolate, pow3


@given(c=st.floats(0.5, 0.99), a=st.floats(0.001, 0.05), alpha=st.floats(0.2, 1.5))
@settings(max_examples=25, deadline=None)
def test_a_noiseless_pow3_curve_is_extrapolated_to_its_own_end(c, a, alpha):
    # Closed form: the fit of an exact pow3 curve predicts pow3 at the full length.
    t = np.linspace(0.025, 0.25, 10)
    fit = extrapolate(t, pow3(t, c, a, alpha), at=1.0)
    assert fit.fitted
    assert fit.prediction == pytest.approx(float(np.clip(c - a, 0, 1)), abs=2e-3)


def test_a_flat_or_short_curve_predicts_its_last_point_and_says_so():
    flat = extrapolate(np.array([0.1, 0.2, 0.3, 0.4]), np.full(4, 0.9), at=1.0)
    short = extrapolate(np.array([0.1, 0.2, 0.3]), np.array([0.5, 0.6, 0.7]), at=1.0)
    assert not flat.fitted and flat.prediction == 0.9
    assert not short.fitted and short.prediction == 0.7


def test_the_prediction_is_an_accuracy():
    # A steep early rise must not extrapolate above 1.
    t = np.linspace(0.01, 0.1, 8)
    fit = extrapolate(t, np.linspace(0.1, 0.99, 8), at=1.0)
    assert 0.0 <= fit.prediction <= 1.0


@pytest.mark.parametrize(
    "epochs, accuracy",
    [([0.0, 0.1, 0.2, 0.3], [0.5] * 4), ([0.1, 0.2, 0.3, 0.4], [0.5, np.nan, 0.6, 0.7]), ([0.1, 0.2], [0.5])],
)
def test_bad_curves_are_refused_in_one_line(epochs, accuracy):
    with pytest.raises(ValueError):
        extrapolate(np.array(epochs), np.array(accuracy), at=1.0)
