"""The lower NB101 budgets (4, 12 and 36 epochs), modelled from a cell's structure and 108-epoch level.

NB101 trained every cell at 4, 12, 36 and 108 epochs (separate runs). The
partial and surrogate tables have only 108-epoch accuracies from real data or
the surrogate; this module models the rest:

- `BudgetModel`: an ensemble of MLPs predicting, per cell, the logit of the
  final validation accuracy at 4, 12 and 36 epochs from the cell's encodings
  (adjacency + one-hot ops, path encoding), log parameter count and level (the
  embedded surrogate's 108-epoch prediction). Fitted on the REAL validation
  accuracies of 80% of the 20,001 cells of `validation_budgets_20k.csv.gz`; its
  fidelity on the other 20% is in its metadata. Shipped as `.npz` + `.json`
  (`bench.artifact`).
- noise around the prediction, in logit units, fitted on the held-out
  residuals: a cell-level part (shared by a cell's repeats) and a repeat part,
  split by the repeat-to-repeat spread of the one cell whose three repeats are
  known at every budget (the Inception-like golden record). The other fields
  (test and train accuracy, halfway values, training time as a fraction of the
  108-epoch time) follow that record's ratios.

Everything produced here is modelled, and the tables say so.

Example:
    >>> from nasbench_sim.bench.budgets import load_budget_model
    >>> model = load_budget_model()
    >>> sorted(model.meta["fidelity"]["holdout_spearman"])
    ['12', '36', '4']
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench_sim.bench.artifact import EnsembleArtifact
from nasbench_sim.bench.features import features
from nasbench_sim.bench.table import NUM_REPEATS
from nasbench_sim.nb101 import EPOCHS

if TYPE_CHECKING:
    from torch import nn

#: The budgets the model predicts: every NB101 budget below the full one.
BUDGETS: tuple[int, ...] = EPOCHS[:-1]
EMBEDDED_NAME = "budgets_v1"
#: The golden record with all budgets (the NB101 README's Inception-like cell).
ALL_BUDGETS_HASH = "28cfc7874f6d200472e1a9dcd8650aa0"
_LOGIT_EPS = 1e-3


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _LOGIT_EPS, 1 - _LOGIT_EPS)
    return np.log(p / (1 - p))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def budget_features(
    num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray, params: np.ndarray, level: np.ndarray
) -> np.ndarray:
    """(B, 404) float32 inputs: the surrogate's 403 features (`bench.features`) plus log(1 - level)."""
    base = features(num_vertices, bits, labels, params)
    return np.column_stack([base, np.log(1.0 - np.clip(level, 0, 1) + _LOGIT_EPS)]).astype(np.float32)


@dataclass(frozen=True, kw_only=True)
class BudgetModelConfig:
    """How the budget model is fitted.

    Attributes:
        members: MLPs of the ensemble (different initialisations and batch orders).
        hidden: width of its two hidden layers (SiLU).
        epochs: passes over the training cells.
        batch_size: cells per step.
        lr: peak AdamW learning rate (one-cycle schedule).
        holdout: fraction of the 20,001 real cells held out for the fidelity figures.
        seed: seed of the split, initialisations and batches.
    """

    members: int = 3
    hidden: int = 256
    epochs: int = 60
    batch_size: int = 256
    lr: float = 2e-3
    holdout: float = 0.2
    seed: int = 0


class BudgetModel(EnsembleArtifact):
    """A fitted budget model: `predict_logit` gives (N, 3) logits of validation accuracy at 4, 12, 36 epochs.

    Args:
        weights: `x_mean`, `x_scale` (404,), `y_mean`, `y_scale` (3,) and `<member>/<state_dict key>` per network.
        meta: the artifact's metadata (`architecture`, `noise`, `fidelity`, ...).
    """

    WHAT = "budget-model"

    def __init__(self, weights: Mapping[str, np.ndarray], meta: dict[str, Any]) -> None:
        super().__init__(weights, meta)
        self._scale = {k: np.asarray(weights[k], dtype=np.float32) for k in ("x_mean", "x_scale", "y_mean", "y_scale")}

    @staticmethod
    def new_members(architecture: Mapping[str, Any]) -> list[nn.Module]:
        """`members` MLPs of two hidden SiLU layers of width `hidden`, one output per budget."""
        import torch

        from nasbench_sim._nn import mlp

        return [
            mlp(architecture["inputs"], architecture["hidden"], len(BUDGETS), layers=2, activation=torch.nn.SiLU)
            for _ in range(architecture["members"])
        ]

    def predict_logit(self, x: np.ndarray, batch: int = 65536) -> np.ndarray:
        """(B, 3) predicted logit validation accuracy at 4, 12, 36 epochs from (B, 404) inputs."""
        import torch

        out = np.empty((x.shape[0], len(BUDGETS)))
        with torch.inference_mode():
            for s in range(0, x.shape[0], batch):
                xb = torch.from_numpy((x[s : s + batch] - self._scale["x_mean"]) / self._scale["x_scale"])
                z = torch.stack([net(xb) for net in self.nets]).mean(0).double().numpy()
                out[s : s + batch] = z * self._scale["y_scale"] + self._scale["y_mean"]
        return out

    @property
    def noise(self) -> dict[str, Any]:
        """Per budget (`"4"`, `"12"`, `"36"`), the noise constants `sample_budgets` draws with."""
        return self.meta["noise"]


def embedded_path() -> Path:
    """Path stem of the shipped artifact (`.npz` + `.json`)."""
    return Path(str(resources.files("nasbench_sim") / "data" / EMBEDDED_NAME))


def load_budget_model() -> BudgetModel:
    """The budget model shipped in the package."""
    return BudgetModel.load(embedded_path())


def holdout_split(num: int, config: BudgetModelConfig) -> tuple[np.ndarray, np.ndarray]:
    """(held-out positions sorted, training positions) of the 20,001 real cells."""
    order = np.random.default_rng(config.seed).permutation(num)
    n_hold = round(config.holdout * num)
    return np.sort(order[:n_hold]), order[n_hold:]


def golden_budget_noise(record: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Per budget, the Inception-like record's repeat spread and field ratios (logit units, fractions)."""
    stats = record["computed_statistics"]
    time108 = np.mean([s["final_training_time"] for s in stats["108"]])
    out = {}
    for epochs in BUDGETS:
        reps = stats[str(epochs)]

        def arr(key: str, reps: list = reps) -> np.ndarray:
            return np.array([s[key] for s in reps], dtype=np.float64)

        val, test, train = arr("final_validation_accuracy"), arr("final_test_accuracy"), arr("final_train_accuracy")
        h_val = arr("halfway_validation_accuracy")
        out[str(epochs)] = {
            "repeat_sd_logit": float(np.std(logit(val), ddof=1)),
            "test_offset": float(np.mean(val - test)),
            "test_sd": float(np.std(val - test, ddof=1)),
            "train_logit_offset": float(np.mean(logit(train) - logit(val))),
            "halfway_gap_logit": float(np.mean(logit(val) - logit(h_val))),
            "halfway_gap_sd": float(np.std(logit(val) - logit(h_val), ddof=1)),
            "halfway_test_offset": float(np.mean(arr("halfway_validation_accuracy") - arr("halfway_test_accuracy"))),
            "halfway_train_offset": float(np.mean(arr("halfway_train_accuracy") - arr("halfway_validation_accuracy"))),
            "time_ratio": float(np.mean(arr("final_training_time")) / time108),
            "halfway_time_ratio": float(np.mean(arr("halfway_training_time") / arr("final_training_time"))),
        }
    return out


def fit_budget_model(
    frame: Any,
    space: Any,
    level: np.ndarray,
    golden_record: Mapping[str, Any],
    config: BudgetModelConfig = BudgetModelConfig(),
    *,
    progress: bool = True,
) -> BudgetModel:
    """Fit the budget model on the real 20k validation accuracies and calibrate its noise.

    Args:
        frame: `validation_budgets_20k.csv.gz` as loaded by `calibration.load_validation_budgets`.
        space: the `CellSpace`.
        level: (423624,) the embedded surrogate's prediction of every cell.
        golden_record: the record with all budgets (hash `ALL_BUDGETS_HASH`).
        config: model and training settings.
        progress: a progress bar over the members' epochs.

    Returns:
        The fitted model; `meta` holds its fidelity and noise.
    """
    import torch
    from scipy import stats
    from tqdm.auto import tqdm

    from nasbench_sim._nn import mlp, seeded

    start = time.perf_counter()
    rows = frame["row"].to_numpy()
    x = budget_features(
        space.num_vertices[rows], space.bits[rows], space.labels[rows], space.trainable_parameters[rows], level[rows]
    )
    real = frame[[f"valid_accuracy_{e}" for e in BUDGETS]].to_numpy(dtype=np.float64)
    y = logit(real)
    hold, train = holdout_split(len(rows), config)
    x_mean, x_scale = x[train].mean(0), x[train].std(0)
    x_scale[x_scale < 1e-6] = 1.0
    y_mean, y_scale = y[train].mean(0), y[train].std(0)
    xt = torch.from_numpy((x[train] - x_mean) / x_scale)
    yt = torch.from_numpy(((y[train] - y_mean) / y_scale).astype(np.float32))
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    steps = config.epochs * int(np.ceil(len(train) / config.batch_size))
    weights: dict[str, np.ndarray] = {"x_mean": x_mean, "x_scale": x_scale, "y_mean": y_mean, "y_scale": y_scale}
    bar = tqdm(total=config.members * config.epochs, desc="fitting budget model", unit="epoch", disable=not progress)
    for m in range(config.members):
        net = seeded(
            int(rng.integers(2**62)),
            lambda: mlp(x.shape[1], config.hidden, len(BUDGETS), layers=2, activation=torch.nn.SiLU),
        )
        optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=1e-4)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.lr, total_steps=steps)
        for _ in range(config.epochs):
            order = torch.randperm(len(train), generator=generator)
            for s in range(0, len(train), config.batch_size):
                idx = order[s : s + config.batch_size]
                loss = torch.nn.functional.huber_loss(net(xt[idx]), yt[idx], delta=1.0)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
            bar.update(1)
        weights.update({f"{m}/{k}": v.detach().numpy().copy() for k, v in net.state_dict().items()})
    bar.close()
    meta: dict[str, Any] = {
        "artifact_version": BudgetModel.VERSION,
        "about": "MLP ensemble: logit validation accuracy at 4/12/36 epochs from structure + 108-epoch level (modelled)",
        "architecture": {"inputs": int(x.shape[1]), "hidden": config.hidden, "members": config.members},
        "config": asdict(config),
        "budgets": list(BUDGETS),
    }
    model = BudgetModel(weights, meta)
    predicted = model.predict_logit(x[hold])
    residual = y[hold] - predicted
    golden = golden_budget_noise(golden_record)
    noise = {}
    for k, epochs in enumerate(BUDGETS):
        r = residual[:, k]
        robust = float((np.quantile(r, 0.75) - np.quantile(r, 0.25)) / 1.349)
        repeat_sd = min(golden[str(epochs)]["repeat_sd_logit"], robust)
        noise[str(epochs)] = {
            "residual_sd_logit": robust,  # robust: a few failed trainings do not set the spread
            "repeat_sd_logit": repeat_sd,
            "cell_sd_logit": float(np.sqrt(max(robust**2 - repeat_sd**2, 0.0))),
            **{key: value for key, value in golden[str(epochs)].items() if key != "repeat_sd_logit"},
        }
    meta["noise"] = noise
    meta["fidelity"] = {
        "holdout_cells": int(hold.size),
        "holdout_spearman": {
            str(e): float(stats.spearmanr(predicted[:, k], real[hold, k]).statistic) for k, e in enumerate(BUDGETS)
        },
    }
    meta["fit_seconds"] = round(time.perf_counter() - start, 1)
    return model


def predict_space(model: BudgetModel, space: Any, level: np.ndarray, chunk: int = 50_000) -> np.ndarray:
    """(423624, 3) predicted logit validation accuracy of every cell at 4, 12, 36 epochs (row order)."""
    n = len(space)
    out = np.empty((n, len(BUDGETS)))
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        x = budget_features(
            space.num_vertices[rows],
            space.bits[rows],
            space.labels[rows],
            space.trainable_parameters[rows],
            level[rows],
        )
        out[rows] = model.predict_logit(x)
    return out


def sample_budgets(model: BudgetModel, base: np.ndarray, time108: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """All fields of the 4, 12 and 36-epoch budgets around the model's predictions.

    Args:
        model: the budget model (its noise constants).
        base: (N, 3) its predicted logits (`BudgetModel.predict_logit` or `predict_space`).
        time108: (N, 3) the 108-epoch training time of each repeat, in seconds.
        rng: the caller's random stream.

    Returns:
        (N, 3, 3, 2, 4) float32 block: (cell, repeat, budget 4/12/36, point, metric).
    """
    n = base.shape[0]
    block = np.empty((n, NUM_REPEATS, len(BUDGETS), 2, 4), dtype=np.float32)
    for k, epochs in enumerate(BUDGETS):
        p = model.noise[str(epochs)]
        cell = base[:, k] + p["cell_sd_logit"] * rng.standard_normal(n)
        val_logit = cell[:, None] + p["repeat_sd_logit"] * rng.standard_normal((n, NUM_REPEATS))
        val = sigmoid(val_logit)
        test = np.clip(val - p["test_offset"] - p["test_sd"] * rng.standard_normal(val.shape), 0, 1)
        train = sigmoid(val_logit + p["train_logit_offset"])
        gap = p["halfway_gap_logit"] + p["halfway_gap_sd"] * rng.standard_normal(val.shape)
        h_val = sigmoid(val_logit - np.maximum(gap, 0.0))
        h_test = np.clip(h_val - p["halfway_test_offset"], 0, 1)
        h_train = np.clip(h_val + p["halfway_train_offset"], 0, 1)
        final_time = np.asarray(time108, dtype=np.float64) * p["time_ratio"]
        block[:, :, k, 1] = np.stack([train, val, test, final_time], axis=-1)
        block[:, :, k, 0] = np.stack([h_train, h_val, h_test, final_time * p["halfway_time_ratio"]], axis=-1)
    return block


def with_lower_budgets(
    block108: np.ndarray, base: np.ndarray, model: BudgetModel, rng: np.random.Generator
) -> np.ndarray:
    """A whole-space 108-epoch block extended with the modelled 4, 12 and 36-epoch budgets.

    Args:
        block108: (423624, 3, 1, 2, 4) the 108-epoch block of a table, in row order.
        base: (423624, 3) the budget model's predictions of every cell (`predict_space`).
        model: the budget model.
        rng: the caller's random stream.

    Returns:
        (423624, 3, 4, 2, 4) float32 with the budget axis ordered 4, 12, 36, 108.
    """
    out = np.empty((block108.shape[0], NUM_REPEATS, len(BUDGETS) + 1, 2, 4), dtype=np.float32)
    out[:, :, len(BUDGETS)] = block108[:, :, 0]
    out[:, :, : len(BUDGETS)] = sample_budgets(model, base, block108[:, :, 0, 1, 3], rng)
    return out
