"""Real NB101 data that calibrates and checks the modelled fields of the partial and surrogate tables.

Three real sources in `../shared/data/nb101` (or wherever `shared_dir()` points):
`test108_repeat0.npy` (repeat-0 test accuracy of every cell), `golden_records.json`
(31 complete records) and `validation_budgets_20k.csv.gz` (validation accuracy of one
random repeat at 4/12/36/108 epochs and the 108-epoch training time of rows 0-20000).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench.calibration import spread_checks
    >>> rng = np.random.default_rng(0)
    >>> real = 0.92 + 0.01 * rng.standard_normal(2000)
    >>> diff = 0.008 + 0.003 * rng.standard_normal(2000)
    >>> checks = spread_checks(real, diff, diff, bands=[(0.90, 0.93)])
    >>> checks[0]["robust_sd_ratio"]
    1.0
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim._io import shared_dir
from nasbench_sim.bench.noise import CellFeatures, failed_cells
from nasbench_sim.bench.noise_fit import CalibrationData
from nasbench_sim.errors import DataFormatError

REPEAT0_FILE = "test108_repeat0.npy"
GOLDEN_FILE = "golden_records.json"
VALIDATION_FILE = "validation_budgets_20k.csv.gz"
VALIDATION_COLUMNS = (
    "module_hash",
    "row",
    "valid_accuracy_4",
    "valid_accuracy_12",
    "valid_accuracy_36",
    "valid_accuracy_108",
    "training_time_108",
    "trainable_parameters",
)
#: Accuracy bands (by real repeat-0 test accuracy) of the spread checks; the last is informative only (19 cells).
CHECK_BANDS = ((0.85, 0.88), (0.88, 0.90), (0.90, 0.92), (0.92, 0.93), (0.93, 1.0), (0.94, 1.0))
#: Cells of the likelihood's all-cells term (a seeded sample keeps the fit fast).
CALIBRATION_SAMPLE = 60_000
CALIBRATION_SEED = 7
#: Cells the prior of the mean is estimated on (a seeded sample of all trained cells, levels from 80%).
PRIOR_SAMPLE = 150_000


def nb101_file(name: str) -> Path | None:
    """A file of `../shared/data/nb101` (or `$NASBENCH_SIM_SHARED/data/nb101`), if present."""
    shared = shared_dir()
    path = shared / "data" / "nb101" / name if shared is not None else None
    return path if path is not None and path.is_file() else None


def load_golden(path: str | os.PathLike) -> dict[str, Any]:
    """hash -> complete record, from `golden_records.json`.

    Raises:
        DataFormatError: missing or not the expected JSON.
    """
    try:
        records = json.loads(Path(path).read_text())["records"]
    except FileNotFoundError:
        raise DataFormatError(f"{path}: no such file") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataFormatError(f"{path}: not a golden-records JSON ({exc})") from None
    return records


def load_validation_budgets(path: str | os.PathLike, num_cells: int = 423_624) -> pd.DataFrame:
    """`validation_budgets_20k.csv.gz` as a frame with the columns of `VALIDATION_COLUMNS`.

    Raises:
        DataFormatError: missing, unreadable, wrong columns or rows out of range.
    """
    try:
        with gzip.open(path, "rt") as handle:
            frame = pd.read_csv(handle)
    except FileNotFoundError:
        raise DataFormatError(f"{path}: no such file") from None
    except (OSError, EOFError, ValueError, pd.errors.ParserError) as exc:
        raise DataFormatError(f"{path}: not a readable gzipped CSV ({exc})") from None
    missing = [c for c in VALIDATION_COLUMNS if c not in frame.columns]
    if missing:
        raise DataFormatError(f"{path}: missing column(s) {missing}")
    rows = frame["row"].to_numpy()
    if rows.min() < 0 or rows.max() >= num_cells:
        raise DataFormatError(f"{path}: row out of range [0, {num_cells})")
    return frame


def load_calibration_data(space: Any, level: np.ndarray, repeat0: np.ndarray) -> CalibrationData:
    """Everything `noise_fit.calibrate` fits on, from `../shared`.

    Args:
        space: the `CellSpace` (hash -> row, cell structure).
        level: (423624,) levels of every cell (the embedded surrogate's predictions).
        repeat0: (423624,) real repeat-0 test accuracies.

    Raises:
        DataFormatError: a source file is missing or malformed.
    """
    golden_path, validation_path = nb101_file(GOLDEN_FILE), nb101_file(VALIDATION_FILE)
    if golden_path is None or validation_path is None:
        raise DataFormatError(f"calibration needs {GOLDEN_FILE} and {VALIDATION_FILE} in ../shared/data/nb101")
    golden = load_golden(golden_path)
    frame = load_validation_budgets(validation_path, len(space))
    golden_rows = np.array([space.index_of_hash(h) for h in golden])
    rng = np.random.default_rng(CALIBRATION_SEED)
    usable = np.flatnonzero((level >= 0.85) & (repeat0 >= 0.80))
    sample = np.sort(rng.choice(usable, CALIBRATION_SAMPLE, replace=False))
    trained = np.flatnonzero(~failed_cells(repeat0, level))
    prior_sample = np.sort(rng.choice(trained, PRIOR_SAMPLE, replace=False))
    rows = frame["row"].to_numpy()
    keep = (level[rows] >= 0.85) & (repeat0[rows] >= 0.80)
    return CalibrationData(
        golden=golden,
        golden_level=level[golden_rows],
        repeat0=repeat0[sample],
        level=level[sample],
        prior_repeat0=repeat0[prior_sample],
        prior_level=level[prior_sample],
        val_repeat0=repeat0[rows[keep]],
        val_level=level[rows[keep]],
        val_random_repeat=frame["valid_accuracy_108"].to_numpy()[keep],
        time_features=CellFeatures.from_space(space, rows),
        time_seconds=frame["training_time_108"].to_numpy(),
    )


def robust_sd(x: np.ndarray) -> float:
    """Robust standard deviation of (N,) values: interquartile range / 1.349 (the SD of a normal)."""
    q75, q25 = np.quantile(x, [0.75, 0.25])
    return float((q75 - q25) / 1.349)


def spread_checks(
    repeat0: np.ndarray,
    real_diff: np.ndarray,
    modelled_diff: np.ndarray,
    bands: tuple[tuple[float, float], ...] | list[tuple[float, float]] = CHECK_BANDS,
    rng: np.random.Generator | None = None,
    resamples: int = 1000,
) -> list[dict[str, Any]]:
    """Per accuracy band: spread of (validation of a random repeat - real repeat-0 test), real vs modelled.

    Args:
        repeat0: (M,) real repeat-0 test accuracies (defines the bands).
        real_diff: (M,) real validation of one random repeat minus `repeat0`.
        modelled_diff: (M,) the same with the table's validation of a random repeat.
        bands: [lo, hi) accuracy bands.
        rng: with it, a 90% bootstrap interval of the sd ratio (cells resampled, real and
            modelled together) from `resamples` draws; without it, none.

    Returns:
        One dict per band: `band`, `cells`, and for real and modelled the mean, sd and
        robust sd (IQR / 1.349) in percentage points, plus the modelled/real ratios
        (and `sd_ratio_ci90` with `rng`).
    """
    rows = []
    for lo, hi in bands:
        sel = (repeat0 >= lo) & (repeat0 < hi)
        real, model = 100 * np.asarray(real_diff)[sel], 100 * np.asarray(modelled_diff)[sel]
        if sel.sum() < 2:
            continue
        row = {"band": f"[{lo:.2f}, {hi:.2f})", "cells": int(sel.sum())}
        for name, values in (("real", real), ("modelled", model)):
            row[f"{name}_mean_pts"] = round(float(values.mean()), 3)
            row[f"{name}_sd_pts"] = round(float(values.std(ddof=1)), 3)
            row[f"{name}_robust_sd_pts"] = round(robust_sd(values), 3)
        row["sd_ratio"] = round(row["modelled_sd_pts"] / row["real_sd_pts"], 3)
        row["robust_sd_ratio"] = round(row["modelled_robust_sd_pts"] / row["real_robust_sd_pts"], 3)
        if rng is not None:
            picks = rng.integers(0, real.size, (resamples, real.size))
            ratios = model[picks].std(axis=1, ddof=1) / real[picks].std(axis=1, ddof=1)
            row["sd_ratio_ci90"] = [round(float(q), 3) for q in np.quantile(ratios, [0.05, 0.95])]
        rows.append(row)
    return rows


def table_spread_checks(table: Any, repeat0: np.ndarray, frame: pd.DataFrame, seed: int = 0) -> list[dict[str, Any]]:
    """`spread_checks` of a table whose cell axis is the space's row order (108-epoch validation).

    `seed` picks the random repeat of each cell and the bootstrap resamples of the sd ratio.
    """
    rows = frame["row"].to_numpy()
    rng = np.random.default_rng(seed)
    repeat = rng.integers(0, table.num_repeats, rows.size)
    budget = table.budget_index(108)
    modelled = np.asarray(table.data[rows, repeat, budget, 1, 1], dtype=np.float64)
    real = frame["valid_accuracy_108"].to_numpy()
    return spread_checks(repeat0[rows], real - repeat0[rows], modelled - repeat0[rows], rng=rng)
