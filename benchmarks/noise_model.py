"""Checks of the modelled fields against real NB101 data; prints JSON.

Usage:
    python benchmarks/noise_model.py [--realizations 0,1,2] [--refit]

- 108 epochs, per accuracy band of the real repeat-0 test accuracy: the spread
  of (validation of a random modelled repeat - real repeat-0 test) against the
  same with the real validation accuracy of one random repeat
  (`validation_budgets_20k.csv.gz`): mean, sd and robust sd (IQR / 1.349), in
  points, and a 90% bootstrap interval of the sd ratio; the goal is modelled within
  20% of real in every band above 85%.
- the table's optimum (best mean-of-3 test accuracy; official: 94.318%).
- 4, 12 and 36 epochs, on the 20% of the 20,001 real cells the budget model was
  not fitted on: Spearman of the table's mean validation accuracy with the real
  values (goals 0.65 / 0.74 / 0.89), and median and quantiles of one random
  modelled repeat beside the real single-repeat values (goal: medians within 0.02).
- `noise_laws`, the evidence behind the shipped laws: per band of the level, the
  spread, kurtosis (Pearson; 3 if Gaussian), skewness and 0.1%/99.9% quantiles of
  real repeat 0 around the level;
  per band of repeat 0, the repeat-to-repeat sd the real validation values imply
  (a random repeat is repeat 0 with probability 1/3, else another repeat, so
  var(validation - repeat 0) = eta^2 / 3 + (2/3) 2 s^2, with eta the shipped
  validation-test residual sd); the shipped repeat sd, the sd of the shipped
  prior of the mean and the share of repeat 0's deviation from the level that the
  posterior mean keeps, at a few levels and deviations; and,
  per band of the level, the spread of repeat 0 around it for the cells the
  surrogate was fitted on against the held-out ones.
- with `--refit`: the noise model refitted from scratch (`noise_fit.calibrate`) next
  to the shipped constants.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from scipy import stats

from nasbench_sim.errors import DataFormatError, NasbenchSimError

LEVEL_BANDS = ((0.85, 0.88), (0.88, 0.90), (0.90, 0.92), (0.92, 0.93), (0.93, 1.0))


def noise_laws(data, model, repeat0: np.ndarray, level: np.ndarray) -> dict:
    """The evidence behind `model`'s accuracy laws (see the module docstring).

    `data` is `CalibrationData`; `repeat0` and `level` (423624,) are every cell's real repeat 0 and level.
    """
    from nasbench_sim.bench.calibration import robust_sd
    from nasbench_sim.bench.embedded_surrogate import holdout_rows, load_embedded
    from nasbench_sim.bench.noise import failed_cells

    trained = ~failed_cells(repeat0, level)
    outside = np.zeros(level.size, dtype=bool)
    outside[holdout_rows(load_embedded(), level.size)] = True  # cells the level was not fitted on

    residual = np.asarray(data.repeat0) - np.asarray(data.level)
    tails = []
    for lo, hi in LEVEL_BANDS:
        r = residual[(data.level >= lo) & (data.level < hi)]
        kurtosis = float(stats.kurtosis(r, fisher=False))
        tails.append(
            {
                "level_band": f"[{lo:.2f}, {hi:.2f})",
                "cells": int(r.size),
                "sd_pts": round(100 * float(r.std()), 3),
                "robust_sd_pts": round(100 * robust_sd(r), 3),
                "kurtosis": round(kurtosis, 2),
                "skewness": round(float(stats.skew(r)), 2),
                "quantiles_0.1_99.9_pct_pts": [round(100 * float(q), 2) for q in np.quantile(r, [0.001, 0.999])],
            }
        )
    held_out = []
    for lo, hi in LEVEL_BANDS:
        band = trained & (level >= lo) & (level < hi)
        sd = {
            name: 100 * float((repeat0 - level)[band & part].std())
            for name, part in (("in", ~outside), ("out", outside))
        }
        held_out.append(
            {
                "level_band": f"[{lo:.2f}, {hi:.2f})",
                "in_sample_sd_pts": round(sd["in"], 3),
                "held_out_sd_pts": round(sd["out"], 3),
                "ratio": round(sd["out"] / sd["in"], 3),
            }
        )
    implied = []
    diff = np.asarray(data.val_random_repeat) - np.asarray(data.val_repeat0)
    eta = model.scales(np.asarray(data.val_level))["val_residual_sd"]
    for lo, hi in LEVEL_BANDS:
        sel = (data.val_repeat0 >= lo) & (data.val_repeat0 < hi)
        var_s = 0.75 * (diff[sel].var() - np.mean(eta[sel] ** 2) / 3)
        implied.append(
            {
                "repeat0_band": f"[{lo:.2f}, {hi:.2f})",
                "cells": int(sel.sum()),
                "implied_repeat_sd_pts": round(100 * float(np.sqrt(max(var_s, 0.0))), 3),
            }
        )
    levels = np.array([0.86, 0.89, 0.91, 0.925, 0.935])
    sc = model.scales(levels)
    prior_sd = model.mean_prior.moments(levels)[1]
    deviations = (-0.01, -0.005, 0.0025, 0.005, 0.01)
    shipped = []
    for m, r, t in zip(levels, sc["repeat_sd"], prior_sd, strict=True):
        t0 = m + np.array(deviations)
        mean, _ = model.posterior_mean(t0, np.full(t0.size, m))
        shipped.append(
            {
                "level": float(m),
                "repeat_sd_pts": round(100 * float(r), 3),
                "prior_sd_pts": round(100 * float(t), 3),
                # share of repeat 0's deviation from the level that the posterior mean keeps
                "posterior_keeps": {
                    f"{100 * d:+g} pts": round(float((mu - m) / d), 3) for d, mu in zip(deviations, mean, strict=True)
                },
            }
        )
    return {
        "repeat0_around_level": tails,
        "repeat_sd_implied_by_validation": implied,
        "shipped_laws": shipped,
        "level_in_sample_vs_held_out": held_out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realizations", default="0,1,2")
    parser.add_argument("--refit", action="store_true")
    args = parser.parse_args()

    from nasbench_sim.bench.budgets import BUDGETS, BudgetModelConfig, holdout_split, load_budget_model
    from nasbench_sim.bench.calibration import (
        REPEAT0_FILE,
        VALIDATION_FILE,
        load_calibration_data,
        load_validation_budgets,
        nb101_file,
        table_spread_checks,
    )
    from nasbench_sim.bench.model_tail import OFFICIAL_OPTIMUM
    from nasbench_sim.bench.noise import DEFAULT_NOISE
    from nasbench_sim.bench.noise_fit import calibrate
    from nasbench_sim.bench.sources import partial_table, surrogate_level
    from nasbench_sim.space import CellSpace

    missing = [name for name in (REPEAT0_FILE, VALIDATION_FILE) if nb101_file(name) is None]
    if missing:
        raise DataFormatError(f"the checks need the real data {missing} in ../shared/data/nb101")
    space = CellSpace.load_or_build(progress=False)
    repeat0 = np.load(nb101_file(REPEAT0_FILE))
    frame = load_validation_budgets(nb101_file(VALIDATION_FILE))
    rows = frame["row"].to_numpy()
    hold, _ = holdout_split(len(rows), BudgetModelConfig(**load_budget_model().meta["config"]))
    out: dict = {"realizations": {}}
    for realization in [int(r) for r in args.realizations.split(",")]:
        table = partial_table(realization=realization, progress=False)
        mean_test = table.mean("test_accuracy")
        entry = {
            "optimum_mean_test_accuracy_pct": round(100 * float(np.nanmax(mean_test)), 3),
            "spread_108": table_spread_checks(table, repeat0, frame, seed=realization),
            "budgets": {},
        }
        rng = np.random.default_rng(realization)
        for epochs in BUDGETS:
            real = frame[f"valid_accuracy_{epochs}"].to_numpy()[hold]
            b = table.budget_index(epochs)
            mean = table.mean("validation_accuracy", epochs)[rows[hold]]
            single = np.asarray(table.data[rows[hold], rng.integers(0, 3, hold.size), b, 1, 1], dtype=np.float64)
            quantiles = [0.1, 0.25, 0.5, 0.75, 0.9]
            entry["budgets"][str(epochs)] = {
                "holdout_cells": int(hold.size),
                "spearman_table_mean_vs_real": round(float(stats.spearmanr(mean, real).statistic), 3),
                "real_quantiles": [round(float(q), 4) for q in np.quantile(real, quantiles)],
                "modelled_quantiles": [round(float(q), 4) for q in np.quantile(single, quantiles)],
                "median_difference": round(float(np.median(single) - np.median(real)), 4),
            }
        out["realizations"][realization] = entry
    out["official_optimum_mean_test_accuracy_pct"] = round(100 * OFFICIAL_OPTIMUM, 3)
    out["goals"] = {"spread_ratio_within": 0.2, "spearman": {"4": 0.65, "12": 0.74, "36": 0.89}, "median_within": 0.02}
    data = load_calibration_data(space, surrogate_level(space), repeat0)
    out["noise_laws"] = noise_laws(data, DEFAULT_NOISE, repeat0, surrogate_level(space))
    if args.refit:
        fitted = calibrate(data)
        out["refit"] = {"fitted": fitted.to_dict(), "shipped": DEFAULT_NOISE.to_dict()}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    status = 0
    try:
        main()
    except NasbenchSimError as exc:
        print(f"noise_model benchmark: error: {exc}", file=sys.stderr)
        status = 2
    sys.exit(status)
