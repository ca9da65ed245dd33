"""Fitting the noise model (`bench.noise`) on real NB101 data: `calibrate`.

`calibrate` fits every constant of `NoiseModel` in two stages.

1. The noise laws: the repeat sd and the validation offset by maximum likelihood
   on the real repeat-0 test accuracies of a sample of cells, the real validation
   accuracy of one random repeat for 20,001 cells (`validation_budgets_20k.csv.gz`)
   and the 31 complete golden records (which alone fix `val_residual_sd`). The
   prior of a cell's mean around its level enters this stage only as a
   parametric stand-in (a Gaussian sd law inside a Student-t term for repeat 0,
   whose deviations from the level are heavy-tailed); its parameters are not kept.
2. The prior of the mean itself (`bench.mean_prior.MeanPrior`): nonparametric
   maximum likelihood on the real repeat 0 of a sample of all trained cells,
   given stage 1's repeat sd. It keeps the skewed, heavy-tailed shape of the real
   deviations that the stand-in's Gaussian draws lost (a thin modelled top).

Training time is fitted on the 20,001 real times, the rest on the golden
records. `bench.calibration.load_calibration_data` gathers that data
(`CalibrationData`) from `../shared`.

Example:
    >>> from nasbench_sim.bench.noise_fit import golden_arrays
    >>> repeats = [{"final_test_accuracy": a} for a in (0.93, 0.94, 0.92)]
    >>> golden_arrays({"28cf...": {"computed_statistics": {"108": repeats}}}, "test_accuracy").tolist()
    [[0.93, 0.94, 0.92]]
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats

from nasbench_sim.bench.mean_prior import MeanPrior
from nasbench_sim.bench.noise import LEVEL_RANGE, CellFeatures, NoiseModel, log_error


@dataclass(frozen=True)
class CalibrationData:
    """Real data the noise model is fitted on (accuracies in [0, 1], times in seconds).

    Attributes:
        golden: `golden_records.json`'s `records` (hash -> complete record).
        golden_level: (31,) levels of the golden cells, in `golden` order.
        repeat0: (N,) real repeat-0 test accuracies of a sample of cells (levels from 85%).
        level: (N,) their levels.
        prior_repeat0: (P,) real repeat-0 test accuracies of a sample of all trained cells
            (`noise.failed_cells` false), on which the prior of the mean is estimated.
        prior_level: (P,) their levels.
        val_repeat0: (M,) real repeat-0 test accuracy of the cells with a real validation value.
        val_level: (M,) their levels.
        val_random_repeat: (M,) their real 108-epoch validation accuracy of one random repeat.
        time_features: features of cells with a real 108-epoch training time.
        time_seconds: (K,) those times.
    """

    golden: Mapping[str, Any]
    golden_level: np.ndarray
    repeat0: np.ndarray
    level: np.ndarray
    prior_repeat0: np.ndarray
    prior_level: np.ndarray
    val_repeat0: np.ndarray
    val_level: np.ndarray
    val_random_repeat: np.ndarray
    time_features: CellFeatures
    time_seconds: np.ndarray


def golden_arrays(records: Mapping[str, Any], field: str, point: str = "final") -> np.ndarray:
    """(cells, 3) the 108-epoch `<point>_<field>` values of each record's three repeats, in record order."""
    return np.array([[s[f"{point}_{field}"] for s in r["computed_statistics"]["108"]] for r in records.values()])


def calibrate(data: CalibrationData) -> NoiseModel:
    """Fit every constant of the noise model (see the module docstring); deterministic given `data`.

    Raises:
        ValueError: the data are too few or inconsistent to fit.
    """
    golden = data.golden
    g_test, g_val = golden_arrays(golden, "test_accuracy"), golden_arrays(golden, "validation_accuracy")
    g_law = log_error(np.asarray(data.golden_level))[:, None]

    # Validation residual sd: only the golden records see validation and test of the same repeat.
    resid = g_val - g_test
    resid = resid - resid.mean(axis=1, keepdims=True)

    def eta_nll(q: np.ndarray) -> float:  # residuals centred per cell have variance 2/3 of the model's
        return -stats.norm.logpdf(resid, 0.0, np.sqrt(2 / 3) * np.exp(q[0] + q[1] * g_law)).sum()

    eta = optimize.minimize(eta_nll, [np.log(0.002), 0.5], method="Nelder-Mead").x
    eta_sd = lambda level: np.exp(eta[0] + eta[1] * log_error(level))  # noqa: E731

    # Stage 1, the noise laws. Repeat sd and validation offset by maximum likelihood on all three
    # data sets, with a parametric stand-in for the prior of the mean (a Gaussian sd law inside a
    # Student-t term for repeat 0); stage 2 replaces that stand-in by the nonparametric prior.
    a_t, a_m = np.asarray(data.repeat0), np.asarray(data.level)
    b_t, b_m, b_v = np.asarray(data.val_repeat0), np.asarray(data.val_level), np.asarray(data.val_random_repeat)
    b_eta = eta_sd(b_m)
    a_law, b_law = log_error(a_m), log_error(b_m)
    g_mean = g_test.mean(axis=1, keepdims=True)

    def law(p: np.ndarray, log_error: np.ndarray) -> np.ndarray:
        return np.exp(p[0] + p[1] * log_error + p[2] * log_error**2)

    def nll(p: np.ndarray) -> float:  # p: repeat sd law (3), validation offset (2), prior sd law (3), log(df - 2)
        s_a, tau_a = law(p[0:3], a_law), law(p[5:8], a_law)
        # Repeat 0 around the level has heavy tails (kurtosis about 6): a Gaussian term let a few
        # outlying runs inflate the repeat sd beyond what the validation data show, so Student-t.
        total = stats.t.logpdf(a_t, 2.0 + np.exp(p[8]), a_m, np.sqrt(tau_a**2 + s_a**2)).sum()
        s_b, tau_b = law(p[0:3], b_law), law(p[5:8], b_law)
        offset = p[3] + p[4] * (np.clip(b_m, *LEVEL_RANGE) - 0.92)
        weight = tau_b**2 / (tau_b**2 + s_b**2)
        post_var = tau_b**2 * s_b**2 / (tau_b**2 + s_b**2)
        diff = b_v - b_t  # validation of a random repeat minus real repeat-0 test
        same = stats.norm.pdf(diff, offset, b_eta) / 3  # the random repeat was repeat 0
        # Another repeat: its run quality and validation-set noise, plus the posterior of the mean
        # (the test-set noise of repeat 0 and the validation-set noise have equal variances).
        other = 2 / 3 * stats.norm.pdf(diff, offset + (1 - weight) * (b_m - b_t), np.sqrt(post_var + s_b**2))
        total += np.log(same + other + 1e-300).sum()
        s_g = np.sqrt(2 / 3) * law(p[0:3], g_law)  # deviations from the cell's own mean
        total += stats.norm.logpdf(g_test, g_mean, s_g).sum()
        return -float(total)

    start = np.array([np.log(0.004), 1.0, 0.0, 0.007, -0.05, np.log(0.002), 1.0, 0.0, np.log(3.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = optimize.minimize(nll, start, method="L-BFGS-B")
        fit = optimize.minimize(
            nll, fit.x, method="Nelder-Mead", options={"maxiter": 40000, "xatol": 1e-8, "fatol": 1e-4}
        )
    if not np.isfinite(fit.fun):
        raise ValueError("noise-model calibration did not converge")
    p = fit.x

    prior_t, prior_m = np.asarray(data.prior_repeat0), np.asarray(data.prior_level)

    # Training time: regression on the real times; repeat-to-repeat sd from the golden records.
    design = data.time_features.design()
    log_time = np.log(np.asarray(data.time_seconds, dtype=np.float64))
    coef, *_ = np.linalg.lstsq(design, log_time, rcond=None)
    residual = log_time - design @ coef
    g_time = np.log(golden_arrays(golden, "training_time"))

    g_train = golden_arrays(golden, "train_accuracy")
    h_test = golden_arrays(golden, "test_accuracy", "halfway")
    h_val = golden_arrays(golden, "validation_accuracy", "halfway")
    h_train = golden_arrays(golden, "train_accuracy", "halfway")
    h_time = golden_arrays(golden, "training_time", "halfway")
    gap = g_test - h_test
    return NoiseModel(
        repeat_sd=tuple(float(x) for x in p[0:3]),
        mean_prior=MeanPrior.fit(prior_t - prior_m, prior_m, law(p[0:3], log_error(prior_m))),  # stage 2
        val_residual_sd=(float(eta[0]), float(eta[1])),
        val_offset=(float(p[3]), float(p[4])),
        train_deficit_rms=float(np.sqrt(np.mean((1.0 - g_train) ** 2))),
        log_time_coef=tuple(float(c) for c in coef),
        log_time_cell_sd=float(np.sqrt(np.sum(residual**2) / max(residual.size - design.shape[1], 1))),
        log_time_repeat_sd=float(np.sqrt(np.mean(g_time.var(axis=1, ddof=1)))),
        halfway_time_ratio=float(np.mean(h_time / np.exp(g_time))),
        halfway_gap_mean=float(np.mean(gap)),
        halfway_gap_sd=float(np.std(gap, ddof=1)),
        halfway_val_offset=float(np.mean(h_val - h_test)),
        halfway_val_sd=float(np.std(h_val - h_test, ddof=1)),
        halfway_train_offset=float(np.mean(h_train - h_test)),
        halfway_train_sd=float(np.std(h_train - h_test, ddof=1)),
    )
