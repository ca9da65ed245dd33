"""Learning-curve extrapolation: fit pow3 to the first part of a validation curve, predict the end.

The family is pow3 of Domhan et al. (IJCAI 2015), accuracy(t) = c - a * t^(-alpha)
with t in epochs, a >= 0 and alpha > 0, so the curve rises towards its asymptote
c; it is fitted by least squares (`scipy.optimize.curve_fit`, bounded) and
evaluated at the full run's length. Where the fit fails or is undefined (fewer
than 4 points, no spread), the last observed accuracy is the prediction and
`CurveFit.fitted` is False.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.lab.curves import extrapolate
    >>> t = np.linspace(0.025, 0.25, 10)
    >>> fit = extrapolate(t, 0.99 - 0.02 * t**-0.5, at=1.0)
    >>> fit.fitted, round(fit.prediction, 4)
    (True, 0.97)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

#: Bounds of (c, a, alpha): an asymptote that is an accuracy, a non-negative scale, a positive rate.
BOUNDS = ((0.0, 0.0, 1e-3), (1.0, 10.0, 5.0))


@dataclass(frozen=True)
class CurveFit:
    """A fitted curve: `prediction` in [0, 1] at the requested length, parameters (c, a, alpha) or NaN."""

    prediction: float
    c: float
    a: float
    alpha: float
    fitted: bool


def pow3(t: np.ndarray, c: float, a: float, alpha: float) -> np.ndarray:
    """c - a * t^(-alpha) for t > 0 (epochs)."""
    return c - a * np.power(t, -alpha)


def extrapolate(epochs: np.ndarray, accuracy: np.ndarray, *, at: float) -> CurveFit:
    """Fit pow3 to (epochs, accuracy) points and predict the accuracy at `at` epochs.

    Args:
        epochs: (P,) positive times of the points (fractional epochs).
        accuracy: (P,) validation accuracy in [0, 1] at those times.
        at: the length to predict for (epochs; the full run's).

    Raises:
        ValueError: shapes differ, or a time is not positive, or a value is not finite.
    """
    from scipy.optimize import curve_fit

    t = np.asarray(epochs, dtype=float)
    y = np.asarray(accuracy, dtype=float)
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError(f"epochs {t.shape} and accuracy {y.shape} must be two equally long vectors")
    if not (np.isfinite(t).all() and np.isfinite(y).all() and (t > 0).all() and at > 0):
        raise ValueError("a learning curve needs finite accuracies at positive times")
    last = float(y[np.argmax(t)]) if len(t) else float("nan")
    nan = float("nan")
    if len(t) < 4 or np.ptp(y) == 0:
        return CurveFit(last, nan, nan, nan, False)
    start = (min(max(float(y.max()), 1e-3), 1.0), max(float(np.ptp(y)) * float(t.min()) ** 0.5, 1e-4), 0.5)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a poor fit's covariance warning: the prediction is judged, not it
            (c, a, alpha), _ = curve_fit(pow3, t, y, p0=start, bounds=BOUNDS, maxfev=5000)
    except (RuntimeError, ValueError):
        return CurveFit(last, nan, nan, nan, False)
    prediction = float(np.clip(pow3(np.array([at]), c, a, alpha)[0], 0.0, 1.0))
    return CurveFit(prediction, float(c), float(a), float(alpha), True)
