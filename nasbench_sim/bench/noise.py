"""Noise model for the NB101 fields a source lacks, calibrated on real records.

The real partial table has only the repeat-0 test accuracy at 108 epochs; the
embedded surrogate predicts only a mean test accuracy. Everything else a query
returns is modelled here, per cell i and repeat r (z are independent N(0, 1)):

- final test accuracy: the mean over the three repeats is exactly `a_i`, the
  one known value (real repeat-0 accuracy, or a surrogate's predicted mean),
  so table means are never shifted by modelled noise. Anchor "repeat0":
  repeats `(a_i, a_i + d, a_i - d)` with `d = test_repeat_sd * z`; anchor
  "mean": `a_i + test_repeat_sd * (z_r - mean_r z)`. Both give the
  real within-cell sample variance `test_repeat_sd**2` in expectation;
- final validation accuracy: `t_r + val_offset + val_sd * z`;
- final train accuracy: `1 - |train_deficit_rms * z|`;
- training time (s): `log T_i = c . [1, log params, #conv3x3, #conv1x1, #maxpool, #edges]
  + log_time_cell_sd * z`, per repeat `T_i * exp(log_time_repeat_sd * z)`;
- halfway point (epoch 54): time `halfway_time_ratio * T`, test accuracy
  `t_r - max(0, halfway_gap_mean + halfway_gap_sd * z)`, validation and train
  accuracy as halfway test plus an offset and noise.

Accuracies are clipped to [0, 1]. `NoiseModel.calibrate` fits every constant
from complete real records (`golden_records.json`); `DEFAULT_NOISE` holds the
result for the 31 golden records (a test refits and compares).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench.noise import DEFAULT_NOISE, CellFeatures
    >>> feats = CellFeatures(np.array([2.7e6]), np.array([[3, 1, 1]]), np.array([5]))
    >>> block = DEFAULT_NOISE.sample(np.array([0.93]), feats, np.random.default_rng(0), anchor="repeat0")
    >>> block.shape  # (cell, repeat, budget=1 (108 epochs), point, metric)
    (1, 3, 1, 2, 4)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nasbench_sim.bench.table import NUM_REPEATS
from nasbench_sim.space.cell import OPS

NUM_TIME_FEATURES = 6


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
    def from_space(cls, space: Any) -> CellFeatures:
        """Features of every cell of a `CellSpace`, in row order."""
        labels = np.asarray(space.labels)
        counts = np.stack([(labels == k).sum(axis=1) for k in range(len(OPS))], axis=1)
        edges = np.bitwise_count(np.asarray(space.bits).astype(np.int64))
        return cls(np.asarray(space.trainable_parameters), counts, edges)


@dataclass(frozen=True, kw_only=True)
class NoiseModel:
    """Constants of the noise model (accuracies as fractions, times in seconds)."""

    test_repeat_sd: float
    val_offset: float
    val_sd: float
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

    @classmethod
    def calibrate(cls, records: Mapping[str, Any]) -> NoiseModel:
        """Fit every constant from complete records (108-epoch budget).

        Args:
            records: `golden_records.json`'s `records`: hash -> record with
                `module_adjacency`, `module_operations`, `trainable_parameters`
                and `computed_statistics["108"]` (a list of repeats).
        """
        test, val, train, time, h_test, h_val, h_train, h_time = ([] for _ in range(8))
        design = []
        for record in records.values():
            stats = record["computed_statistics"]["108"]
            test.append([s["final_test_accuracy"] for s in stats])
            val.append([s["final_validation_accuracy"] for s in stats])
            train.append([s["final_train_accuracy"] for s in stats])
            time.append([s["final_training_time"] for s in stats])
            h_test.append([s["halfway_test_accuracy"] for s in stats])
            h_val.append([s["halfway_validation_accuracy"] for s in stats])
            h_train.append([s["halfway_train_accuracy"] for s in stats])
            h_time.append([s["halfway_training_time"] for s in stats])
            ops = record["module_operations"][1:-1]
            counts = [[ops.count(op) for op in OPS]]
            edges = [int(np.sum(record["module_adjacency"]))]
            design.append(
                CellFeatures(np.array([record["trainable_parameters"]]), np.array(counts), np.array(edges)).design()[0]
            )
        test, val, train, time = map(np.asarray, (test, val, train, time))
        h_test, h_val, h_train, h_time = map(np.asarray, (h_test, h_val, h_train, h_time))
        design = np.asarray(design)
        log_time = np.log(time)
        coef, *_ = np.linalg.lstsq(design, log_time.mean(axis=1), rcond=None)
        residual = log_time.mean(axis=1) - design @ coef
        dof = max(len(residual) - design.shape[1], 1)
        gap = test - h_test
        return cls(
            test_repeat_sd=float(np.sqrt(np.mean(test.var(axis=1, ddof=1)))),
            val_offset=float(np.mean(val - test)),
            val_sd=float(np.std(val - test, ddof=1)),
            train_deficit_rms=float(np.sqrt(np.mean((1.0 - train) ** 2))),
            log_time_coef=tuple(float(c) for c in coef),
            log_time_cell_sd=float(np.sqrt(np.sum(residual**2) / dof)),
            log_time_repeat_sd=float(np.sqrt(np.mean(log_time.var(axis=1, ddof=1)))),
            halfway_time_ratio=float(np.mean(h_time / time)),
            halfway_gap_mean=float(np.mean(gap)),
            halfway_gap_sd=float(np.std(gap, ddof=1)),
            halfway_val_offset=float(np.mean(h_val - h_test)),
            halfway_val_sd=float(np.std(h_val - h_test, ddof=1)),
            halfway_train_offset=float(np.mean(h_train - h_test)),
            halfway_train_sd=float(np.std(h_train - h_test, ddof=1)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def sample(
        self,
        test_accuracy: np.ndarray,
        features: CellFeatures,
        rng: np.random.Generator,
        *,
        anchor: str,
    ) -> np.ndarray:
        """Model all fields of the 108-epoch budget.

        Args:
            test_accuracy: (N,) in [0, 1]: the real repeat-0 value (`anchor="repeat0"`)
                or a predicted mean (`anchor="mean"`).
            features: structure of the same N cells.
            rng: the caller's random stream.
            anchor: how `test_accuracy` relates to the repeats (see module docstring).

        Returns:
            (N, 3, 1, 2, 4) float32 block: (cell, repeat, budget, point, metric).
        """
        if anchor not in ("repeat0", "mean"):
            raise ValueError(f"anchor must be 'repeat0' or 'mean', got {anchor!r}")
        a = np.asarray(test_accuracy, dtype=np.float64)[:, None]
        n = a.shape[0]
        z = rng.standard_normal((n, NUM_REPEATS))
        if anchor == "repeat0":
            d = self.test_repeat_sd * z[:, 0]
            spread = np.stack([np.zeros(n), d, -d], axis=1)
        else:
            spread = self.test_repeat_sd * (z - z.mean(axis=1, keepdims=True))
        test = np.clip(a + spread, 0.0, 1.0)
        val = np.clip(test + self.val_offset + self.val_sd * rng.standard_normal((n, NUM_REPEATS)), 0.0, 1.0)
        train = np.clip(1.0 - np.abs(self.train_deficit_rms * rng.standard_normal((n, NUM_REPEATS))), 0.0, 1.0)
        log_cell_time = features.design() @ np.asarray(
            self.log_time_coef
        ) + self.log_time_cell_sd * rng.standard_normal(n)
        time = np.exp(log_cell_time[:, None] + self.log_time_repeat_sd * rng.standard_normal((n, NUM_REPEATS)))
        gap = np.maximum(0.0, self.halfway_gap_mean + self.halfway_gap_sd * rng.standard_normal((n, NUM_REPEATS)))
        h_test = np.clip(test - gap, 0.0, 1.0)
        h_val = np.clip(
            h_test + self.halfway_val_offset + self.halfway_val_sd * rng.standard_normal((n, NUM_REPEATS)), 0, 1
        )
        h_train = np.clip(
            h_test + self.halfway_train_offset + self.halfway_train_sd * rng.standard_normal((n, NUM_REPEATS)), 0, 1
        )
        block = np.empty((n, NUM_REPEATS, 1, 2, 4), dtype=np.float32)
        block[:, :, 0, 0] = np.stack([h_train, h_val, h_test, self.halfway_time_ratio * time], axis=-1)
        block[:, :, 0, 1] = np.stack([train, val, test, time], axis=-1)
        return block


#: `NoiseModel.calibrate` on the 31 records of `golden_records.json` (checked by tests).
DEFAULT_NOISE = NoiseModel(
    test_repeat_sd=0.005982794542390455,
    val_offset=0.005317107964587468,
    val_sd=0.0026879751787482154,
    train_deficit_rms=0.0013304414067576147,
    log_time_coef=(
        -0.13416569291049127,
        0.5199279357717285,
        -0.3363134566360847,
        -0.23512134039395494,
        -0.16257036392730428,
        0.08169571514867685,
    ),
    log_time_cell_sd=0.14737542136217296,
    log_time_repeat_sd=0.0015277563502741928,
    halfway_time_ratio=0.49978123387124024,
    halfway_gap_mean=0.22865078590249502,
    halfway_gap_sd=0.10060320363900238,
    halfway_val_offset=0.00500908782405238,
    halfway_val_sd=0.0057909925025335755,
    halfway_train_offset=0.04473070816327167,
    halfway_train_sd=0.016576559059378635,
)
