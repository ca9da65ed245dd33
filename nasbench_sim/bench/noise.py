"""Noise model for the NB101 fields a source lacks, calibrated on real data.

The real partial table has only the repeat-0 test accuracy at 108 epochs; the
embedded surrogate predicts only a mean test accuracy. Everything else a query
returns is modelled here. Each cell has a *level* `m`: the embedded
surrogate's prediction of its mean test accuracy (a structural prior). The
noise scales are functions of that level, `f(m) = exp(a + b log((1 - m) / 0.08))`
(a power law in the error rate; `m` clipped to [0.70, 0.97]; the repeat sd
adds a quadratic term in the log error), because NB101's
repeat-to-repeat noise falls with accuracy (fitted: about 0.55 points at 86%, 0.25 at 93%).

Per cell i and training repeat r (z are independent N(0, 1) draws):

- true mean test accuracy `mu_i = m_i + delta_i`. The prior of `delta` is not
  Gaussian: repeat 0 around the level is skewed and heavy-tailed, so it is a
  discrete distribution per level estimated from the real repeat 0
  (`bench.mean_prior.MeanPrior`, nonparametric maximum likelihood). Partial
  table: `delta_i` is drawn from its posterior given the real repeat-0 value
  `t_i0` (`t0 - m = delta + repeat_sd(m) z`). Cells whose repeat 0 or level is
  below 80% (failed or near-failed training) keep `mu = t0`. Surrogate table:
  `mu_i = m_i`.
- a repeat's deviation splits into how well that training run went (`q_ir`,
  shared by its validation and test accuracy) and evaluation noise specific to
  each 10,000-image set (`b_ir` test, `c_ir` validation, equal variances
  `val_residual_sd^2 / 2`): `t_ir = mu_i + q_ir + b_ir` with total sd
  `repeat_sd`, and `v_ir = mu_i + val_offset(m_i) + q_ir + c_ir`, with
  `val_offset(m) = c0 + c1 (m - 0.92)`. So validation minus test of one repeat has
  sd `val_residual_sd`, and validation tracks the run's quality, not the test set's noise.
- final test accuracy: partial table: repeat 0 stays the real value (its run
  quality is drawn given it), repeats 1-2 are drawn. Surrogate table: centred so
  the mean over the three repeats is exactly `m_i`.
- final validation accuracy: as above.
- final train accuracy: `1 - |train_deficit_rms z|`.
- training time (s): `log T_i = c . [1, log params, #conv3x3, #conv1x1, #maxpool, #edges]
  + log_time_cell_sd z`, per repeat `T_i exp(log_time_repeat_sd z)`.
- halfway point (epoch 54): time `halfway_time_ratio T`, test accuracy
  `t_r - max(0, halfway_gap_mean + halfway_gap_sd z)`, validation and train
  accuracy as halfway test plus an offset and noise.

Accuracies are clipped to [0, 1]. `DEFAULT_NOISE` holds the constants that
`bench.noise_fit.calibrate` fits on the real data (a test refits them).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench.noise import DEFAULT_NOISE, CellFeatures
    >>> feats = CellFeatures(np.array([2.7e6]), np.array([[3, 1, 1]]), np.array([5]))
    >>> block = DEFAULT_NOISE.sample_around_mean(np.array([0.93]), feats, np.random.default_rng(0))
    >>> block.shape  # (cell, repeat, budget=1 (108 epochs), point, metric)
    (1, 3, 1, 2, 4)
    >>> round(float(block[0, :, 0, 1, 2].mean()), 4)  # the mean over repeats is the given mean
    0.93
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.bench.mean_prior import MeanPrior
from nasbench_sim.bench.table import NUM_REPEATS
from nasbench_sim.space.cell import OPS

#: Reference error rate of the power laws, and the clip range of the level.
REFERENCE_ERROR = 0.08
LEVEL_RANGE = (0.70, 0.97)
#: Below this repeat-0 accuracy or level a cell counts as failed: its mean stays its repeat 0.
FAILED_BELOW = 0.80
#: Path stem of the shipped mean prior (`.npz` + `.json`), fitted with `DEFAULT_NOISE`'s other constants.
MEAN_PRIOR_PATH = Path(__file__).resolve().parent.parent / "data" / "mean_prior_v1"


def failed_cells(repeat0: np.ndarray, level: np.ndarray) -> np.ndarray:
    """(N,) bool: failed or near-failed trainings (repeat 0 or level below `FAILED_BELOW`)."""
    return (np.asarray(repeat0) < FAILED_BELOW) | (np.asarray(level) < FAILED_BELOW)


@dataclass(frozen=True)
class CellFeatures:
    """Structure of cells used by the training-time model.

    Attributes:
        trainable_parameters: (N,) parameter counts.
        op_counts: (N, 3) number of vertices with each op of `OPS`.
        num_edges: (N,) edges after pruning.
    """

    trainable_parameters: np.ndarray
    op_counts: np.ndarray
    num_edges: np.ndarray

    def design(self) -> np.ndarray:
        """(N, 6) design matrix [1, log params, #conv3x3, #conv1x1, #maxpool, #edges]."""
        n = len(self.trainable_parameters)
        return np.column_stack(
            [
                np.ones(n),
                np.log(np.asarray(self.trainable_parameters, dtype=np.float64)),
                self.op_counts,
                self.num_edges,
            ]
        ).astype(np.float64)

    @classmethod
    def from_space(cls, space: Any, rows: np.ndarray | None = None) -> CellFeatures:
        """Features of the cells of a `CellSpace` (all rows, or `rows`), in that order."""
        rows = slice(None) if rows is None else np.asarray(rows)
        labels = np.asarray(space.labels)[rows]
        counts = np.stack([(labels == k).sum(axis=1) for k in range(len(OPS))], axis=1)
        edges = np.bitwise_count(np.asarray(space.bits)[rows].astype(np.int64))
        return cls(np.asarray(space.trainable_parameters)[rows], counts, edges)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CellFeatures:
        """Features of one golden record (`module_adjacency`, `module_operations`, `trainable_parameters`)."""
        ops = record["module_operations"][1:-1]
        return cls(
            np.array([record["trainable_parameters"]]),
            np.array([[ops.count(op) for op in OPS]]),
            np.array([int(np.sum(record["module_adjacency"]))]),
        )


def log_error(level: np.ndarray) -> np.ndarray:
    """`L = log((1 - m) / 0.08)` of levels m clipped to `LEVEL_RANGE`: the variable of the power laws."""
    return np.log((1.0 - np.clip(level, *LEVEL_RANGE)) / REFERENCE_ERROR)


def power_law(coef: tuple[float, ...], level: np.ndarray) -> np.ndarray:
    """`exp(c0 + c1 L + c2 L^2 + ...)` with `L = log_error(m)`."""
    law = log_error(np.asarray(level, dtype=np.float64))
    return np.exp(np.polynomial.polynomial.polyval(law, np.asarray(coef, dtype=np.float64)))


@dataclass(frozen=True, kw_only=True)
class NoiseModel:
    """Constants of the noise model (accuracies as fractions, times in seconds).

    Attributes:
        repeat_sd: (c0, c1, c2) law (`power_law`) of the test-accuracy sd between training repeats.
        mean_prior: prior of a cell's true mean minus its level, per level (`MeanPrior`).
        val_residual_sd: (a, b) power law of the sd of validation - test within a repeat.
        val_offset: (c0, c1): mean validation - test is `c0 + c1 (m - 0.92)`.
        train_deficit_rms: RMS of 1 - final train accuracy.
        log_time_coef: coefficients of the log training-time regression (see module docstring).
        log_time_cell_sd, log_time_repeat_sd: its residual sd between cells and between repeats.
        halfway_*: the halfway point (see module docstring).
    """

    repeat_sd: tuple[float, ...]
    mean_prior: MeanPrior
    val_residual_sd: tuple[float, float]
    val_offset: tuple[float, float]
    train_deficit_rms: float
    log_time_coef: tuple[float, ...]
    log_time_cell_sd: float
    log_time_repeat_sd: float
    halfway_time_ratio: float
    halfway_gap_mean: float
    halfway_gap_sd: float
    halfway_val_offset: float
    halfway_val_sd: float
    halfway_train_offset: float
    halfway_train_sd: float

    # --- the accuracy model ----------------------------------------------------------
    def scales(self, level: np.ndarray) -> dict[str, np.ndarray]:
        """Per-cell `repeat_sd`, `val_residual_sd`, `val_offset` at levels (N,)."""
        m = np.asarray(level, dtype=np.float64)
        return {
            "repeat_sd": power_law(self.repeat_sd, m),
            "val_residual_sd": power_law(self.val_residual_sd, m),
            "val_offset": self.val_offset[0] + self.val_offset[1] * (np.clip(m, *LEVEL_RANGE) - 0.92),
        }

    def posterior_mean(self, repeat0: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior (mean, sd) of each cell's true mean test accuracy given its real repeat 0.

        Args:
            repeat0: (N,) real repeat-0 test accuracies in [0, 1].
            level: (N,) structural prior means (surrogate predictions) in [0, 1].
        """
        t0 = np.asarray(repeat0, dtype=np.float64)
        m = np.asarray(level, dtype=np.float64)
        delta, sd = self.mean_prior.posterior_moments(t0 - m, m, power_law(self.repeat_sd, m))
        failed = failed_cells(t0, m)
        return np.where(failed, t0, m + delta), np.where(failed, 0.0, sd)

    def probability_above(
        self, threshold: float, level: np.ndarray, repeat0: np.ndarray | None = None, *, repeats: int = 1
    ) -> np.ndarray:
        """(N,) probability that a modelled repeat's test accuracy exceeds `threshold` (a fraction).

        With `repeat0`, given each cell's real repeat 0 (its posterior predictive: the mean over noise
        realizations of a partial table's repeat 1 or 2); without it, the prior predictive at `level`
        (what the model says repeat 0 itself should look like). Summed over cells: the expected count.

        Args:
            threshold: accuracy threshold in [0, 1].
            level: (N,) structural prior means.
            repeat0: (N,) real repeat-0 test accuracies, or None.
            repeats: the probability that this many repeats of one realization (sharing the cell's
                drawn mean) all exceed it.
        """
        from scipy.special import ndtr

        m = np.asarray(level, dtype=np.float64)
        sd = power_law(self.repeat_sd, m)
        deviation = None if repeat0 is None else np.asarray(repeat0, dtype=np.float64) - m
        out = self.mean_prior.exceedance(threshold - m, m, sd, deviation, repeats=repeats)
        if repeat0 is not None:  # failed trainings: mean = repeat 0, noise at that value
            t0 = np.asarray(repeat0, dtype=np.float64)
            failed = failed_cells(t0, m)
            out[failed] = ndtr((t0[failed] - threshold) / power_law(self.repeat_sd, t0[failed])) ** repeats
        return out

    # --- sampling ---------------------------------------------------------------------
    def sample_partial(
        self, repeat0: np.ndarray, level: np.ndarray, features: CellFeatures, rng: np.random.Generator
    ) -> np.ndarray:
        """All fields of the 108-epoch budget given the real repeat-0 test accuracy.

        Args:
            repeat0: (N,) real repeat-0 test accuracies in [0, 1] (kept exactly).
            level: (N,) structural prior means (the embedded surrogate's predictions).
            features: structure of the same N cells.
            rng: the caller's random stream.

        Returns:
            (N, 3, 1, 2, 4) float32 block: (cell, repeat, budget, point, metric).
        """
        m = np.asarray(level, dtype=np.float64)
        test, mu, noise_at = self._partial_test(repeat0, m, rng)
        return self._complete(test, mu, m, features, rng, noise_at=noise_at)

    def sample_test_repeats(self, repeat0: np.ndarray, level: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(N, 3) the 108-epoch test accuracies of `sample_partial` alone (the same draws for the same stream).

        Args:
            repeat0: (N,) real repeat-0 test accuracies in [0, 1] (column 0, kept exactly).
            level: (N,) structural prior means.
            rng: the caller's random stream.
        """
        return np.clip(self._partial_test(repeat0, level, rng)[0], 0.0, 1.0)

    def _partial_test(
        self, repeat0: np.ndarray, level: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Test accuracies (N, 3), true means (N,) and noise levels (N,) of cells with a real repeat 0."""
        t0, m = np.asarray(repeat0, dtype=np.float64), np.asarray(level, dtype=np.float64)
        failed = failed_cells(t0, m)
        noise_at = np.where(failed, t0, m)  # the level whose repeat noise the cell has
        delta = self.mean_prior.sample(t0 - m, m, power_law(self.repeat_sd, m), rng)
        mu = np.where(failed, t0, m + delta)
        spread = power_law(self.repeat_sd, noise_at)[:, None] * rng.standard_normal((t0.size, NUM_REPEATS - 1))
        return np.column_stack([t0, mu[:, None] + spread]), mu, noise_at

    def sample_around_mean(self, mean: np.ndarray, features: CellFeatures, rng: np.random.Generator) -> np.ndarray:
        """All fields of the 108-epoch budget for cells whose mean test accuracy is given.

        Args:
            mean: (N,) mean test accuracy over repeats in [0, 1] (the level; kept exactly as the mean).
            features: structure of the same N cells.
            rng: the caller's random stream.

        Returns:
            (N, 3, 1, 2, 4) float32 block; `block[:, :, 0, 1, 2].mean(1) == mean` up to clipping.
        """
        m = np.asarray(mean, dtype=np.float64)
        z = rng.standard_normal((m.size, NUM_REPEATS))
        test = m[:, None] + power_law(self.repeat_sd, m)[:, None] * (z - z.mean(axis=1, keepdims=True))
        return self._complete(test, m, m, features, rng, noise_at=m)

    def _complete(
        self,
        test: np.ndarray,
        mu: np.ndarray,
        level: np.ndarray,
        features: CellFeatures,
        rng: np.random.Generator,
        *,
        noise_at: np.ndarray,
    ) -> np.ndarray:
        """The remaining fields around test accuracies (N, 3) of cells with true means `mu` (N,).

        `noise_at` (N,): the level at which each cell's repeat noise is evaluated.
        """
        n = test.shape[0]
        sc = self.scales(level)
        repeat_var = power_law(self.repeat_sd, noise_at)[:, None] ** 2
        set_var = sc["val_residual_sd"][:, None] ** 2 / 2  # evaluation noise of one 10k-image set
        run_var = np.maximum(repeat_var - set_var, 0.0)  # quality of the training run
        # The run quality given the repeat's deviation from the mean (its shared part), then validation.
        shrink = run_var / np.maximum(repeat_var, 1e-12)
        run = shrink * (test - mu[:, None]) + np.sqrt(shrink * set_var) * rng.standard_normal(test.shape)
        val = mu[:, None] + sc["val_offset"][:, None] + run + np.sqrt(set_var) * rng.standard_normal(test.shape)
        test, val = np.clip(test, 0.0, 1.0), np.clip(val, 0.0, 1.0)
        train = np.clip(1.0 - np.abs(self.train_deficit_rms * rng.standard_normal(test.shape)), 0.0, 1.0)
        time = self.sample_time(features, rng)
        gap = np.maximum(0.0, self.halfway_gap_mean + self.halfway_gap_sd * rng.standard_normal(test.shape))
        h_test = np.clip(test - gap, 0.0, 1.0)
        h_val = np.clip(h_test + self.halfway_val_offset + self.halfway_val_sd * rng.standard_normal(test.shape), 0, 1)
        h_train = np.clip(
            h_test + self.halfway_train_offset + self.halfway_train_sd * rng.standard_normal(test.shape), 0, 1
        )
        block = np.empty((n, NUM_REPEATS, 1, 2, 4), dtype=np.float32)
        block[:, :, 0, 0] = np.stack([h_train, h_val, h_test, self.halfway_time_ratio * time], axis=-1)
        block[:, :, 0, 1] = np.stack([train, val, test, time], axis=-1)
        return block

    def sample_time(self, features: CellFeatures, rng: np.random.Generator) -> np.ndarray:
        """(N, 3) training seconds at 108 epochs."""
        n = len(features.trainable_parameters)
        log_cell = features.design() @ np.asarray(self.log_time_coef) + self.log_time_cell_sd * rng.standard_normal(n)
        return np.exp(log_cell[:, None] + self.log_time_repeat_sd * rng.standard_normal((n, NUM_REPEATS)))

    def to_dict(self) -> dict[str, Any]:
        """The constants as JSON-ready values (the mean prior by its summary and checksum)."""
        out: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, MeanPrior):
                value = value.to_dict()
            out[field.name] = list(value) if isinstance(value, tuple) else value
        return out

    @property
    def fingerprint(self) -> str:
        """Short hash of the constants (names caches of tables built with them)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:8]


#: `noise_fit.calibrate` on the real data (see `bench.calibration.load_calibration_data`; a test refits it).
DEFAULT_NOISE = NoiseModel(
    repeat_sd=(-5.826755589594439, 1.2397037794832992, -0.23492106536024038),
    mean_prior=MeanPrior.load(MEAN_PRIOR_PATH),
    val_residual_sd=(-6.069353517349665, 0.8439848623082951),
    val_offset=(0.008411993944679869, -0.03701124393573276),
    train_deficit_rms=0.0013304414067576147,
    log_time_coef=(
        -0.6254440514337667,
        0.5067519864093974,
        -0.16170101805964743,
        -0.08701477844719735,
        0.002564239339144281,
        0.07083450199215137,
    ),
    log_time_cell_sd=0.16308932249223201,
    log_time_repeat_sd=0.0015277563502741928,
    halfway_time_ratio=0.4997812338712403,
    halfway_gap_mean=0.22865078590249502,
    halfway_gap_sd=0.10060320363900238,
    halfway_val_offset=0.00500908782405238,
    halfway_val_sd=0.0057909925025335755,
    halfway_train_offset=0.04473070816327167,
    halfway_train_sd=0.016576559059378635,
)
