"""The embedded NB101 surrogate: predicts the 108-epoch mean test accuracy of any cell.

An ensemble of MLPs on [adjacency + one-hot ops (36), path encoding (364),
log parameter count, vertex and edge counts], trained on the real repeat-0
test accuracies with a held-out 10% of cells for the fidelity figures. The
target is `log(1 - accuracy)` (standardised), which spreads out the top of the
distribution, where NAS operates, and tames the ~10%-accuracy failures.

The fitted artifact (`bench.artifact`) is a `.npz` of weight arrays plus a
`.json` of metadata (architecture, feature scaling, fidelity, SHA-256 of the
data it was fitted on), loaded with `allow_pickle=False`. The table built from
it (`build_surrogate_table`, through the recipe of `bench.modelled`) is marked
"surrogate" everywhere.

Example:
    >>> from nasbench_sim.bench.embedded_surrogate import load_embedded
    >>> model = load_embedded()
    >>> round(model.meta["fidelity"]["spearman"], 2)
    0.97
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import nn
from tqdm.auto import tqdm

from nasbench_sim._nn import mlp, seeded
from nasbench_sim.bench.artifact import EnsembleArtifact
from nasbench_sim.bench.budgets import BudgetModel
from nasbench_sim.bench.features import space_features
from nasbench_sim.bench.modelled import Provenance, build_modelled_table
from nasbench_sim.bench.noise import DEFAULT_NOISE, NoiseModel
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.errors import ConfigError

EMBEDDED_NAME = "surrogate_v1"
SURROGATE_SEED = 301
_EPS = 1e-3


@dataclass(frozen=True, kw_only=True)
class SurrogateConfig:
    """How to fit the surrogate.

    Attributes:
        hidden: width of each hidden layer.
        layers: hidden layers per MLP.
        ensemble: independently initialised MLPs whose predictions are averaged.
        epochs: passes over the training cells.
        batch_size: cells per step.
        lr: peak Adam learning rate (cosine decay to 0).
        weight_decay: AdamW weight decay.
        holdout: fraction of cells held out for the fidelity figures.
        seed: seed of the split, the initialisation and the batches.
        max_cells: fit on a random subset of this many cells (None: all); for quick tests.
    """

    hidden: int = 256
    layers: int = 3
    ensemble: int = 3
    epochs: int = 12
    batch_size: int = 1024
    lr: float = 2e-3
    weight_decay: float = 1e-4
    holdout: float = 0.1
    seed: int = 0
    max_cells: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.holdout < 1:
            raise ConfigError(f"holdout must be in (0, 1), got {self.holdout}")
        if min(self.hidden, self.layers, self.ensemble, self.epochs, self.batch_size) < 1:
            raise ConfigError("hidden, layers, ensemble, epochs and batch_size must be >= 1")


def _mlp(n_in: int, hidden: int, layers: int) -> nn.Sequential:
    return mlp(n_in, hidden, 1, layers=layers, activation=nn.SiLU)


def _weight_arrays(nets: list[nn.Module], feature_mean: np.ndarray, feature_scale: np.ndarray) -> dict[str, np.ndarray]:
    """The artifact's arrays: feature scaling plus `<member>/<state_dict key>` per network."""
    arrays = {"feature_mean": feature_mean, "feature_scale": feature_scale}
    for m, net in enumerate(nets):
        arrays.update({f"{m}/{k}": v.detach().numpy().copy() for k, v in net.state_dict().items()})
    return arrays


def _split_rows(
    rng: np.random.Generator, num_cells: int, max_cells: int | None, holdout: float
) -> tuple[np.ndarray, np.ndarray]:
    """(held-out rows sorted, training rows): `fit_surrogate`'s split, the first draw of its rng."""
    rows = rng.permutation(num_cells)
    if max_cells is not None:
        rows = rows[:max_cells]
    n_hold = max(1, round(holdout * rows.size))
    return np.sort(rows[:n_hold]), rows[n_hold:]


def fidelity(predicted: np.ndarray, real: np.ndarray, top: int = 1000) -> dict[str, float]:
    """Spearman, Kendall tau, R^2 and top-`top` overlap of predicted vs real accuracies."""
    predicted = np.asarray(predicted, dtype=np.float64)
    real = np.asarray(real, dtype=np.float64)
    k = min(top, real.size)
    top_pred = set(np.argsort(-predicted)[:k].tolist())
    top_real = set(np.argsort(-real)[:k].tolist())
    return {
        "spearman": float(stats.spearmanr(predicted, real).statistic),
        "kendall_tau": float(stats.kendalltau(predicted, real).statistic),
        "r2": float(1 - np.sum((real - predicted) ** 2) / np.sum((real - real.mean()) ** 2)),
        f"top{top}_overlap": len(top_pred & top_real) / k,
        "num_cells": int(real.size),
    }


class SurrogateModel(EnsembleArtifact):
    """A fitted surrogate: `predict_features` / `predict_space` give mean test accuracy in [0, 1].

    Args:
        weights: `feature_mean`, `feature_scale` (403,) and `<member>/<state_dict key>` per network.
        meta: the artifact's metadata (`architecture`, `target`, `fidelity`, ...).
    """

    WHAT = "surrogate"

    def __init__(self, weights: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        super().__init__(weights, meta)
        self._mean_t = torch.from_numpy(weights["feature_mean"].astype(np.float32))
        self._scale_t = torch.from_numpy(weights["feature_scale"].astype(np.float32))

    @staticmethod
    def new_members(architecture: Mapping[str, Any]) -> list[nn.Module]:
        """`ensemble` MLPs of `layers` hidden SiLU layers of width `hidden`, one output."""
        return [
            _mlp(architecture["inputs"], architecture["hidden"], architecture["layers"])
            for _ in range(architecture["ensemble"])
        ]

    def predict_features(self, x: np.ndarray, batch: int = 8192) -> np.ndarray:
        """(B,) predicted mean test accuracy in [0, 1] from (B, 403) unscaled features."""
        return self._predict_rows(x.shape[0], lambda rows: torch.tensor(x[rows]), batch=batch, progress=False)

    def predict_space(self, space: Any, *, batch: int = 8192, progress: bool = False) -> np.ndarray:
        """(423624,) predicted mean test accuracy in [0, 1] of every cell, in row order.

        Streams over the space: features of `batch` cells at a time, never the
        whole (423624, 403) matrix. Equal to `predict_features(space_features(space), batch)`
        (with another `batch`, up to float32 rounding: the BLAS may sum in another order).
        """
        return self._predict_rows(
            len(space), lambda rows: torch.from_numpy(space_features(space, rows)), batch=batch, progress=progress
        )

    def _predict_rows(
        self, num_rows: int, features_of: Callable[[slice], torch.Tensor], *, batch: int, progress: bool
    ) -> np.ndarray:
        """(num_rows,) accuracies, `batch` rows at a time: one chunk per thread, one torch thread each.

        Chunks in parallel threads use the cores without torch's per-operation
        synchronisation, which stalls when other jobs share the machine.

        Args:
            num_rows: rows to predict.
            features_of: (B, 403) float32 unscaled features of a slice of rows, a tensor the model may overwrite.
            batch: rows per chunk.
            progress: show a tqdm bar.
        """
        t = self.meta["target"]

        def predict(start: int) -> np.ndarray:
            with torch.inference_mode():
                x = features_of(slice(start, start + batch)).sub_(self._mean_t).div_(self._scale_t)
                members = []
                for net in self.nets:
                    h = x
                    for layer in net:  # the nets' layers, with the activations in place (inference only)
                        h = nn.functional.silu(h, inplace=True) if isinstance(layer, nn.SiLU) else layer(h)
                    members.append(h[:, 0])
                z = torch.stack(members).mean(0).double().numpy()
            return np.clip(1.0 - np.exp(z * t["scale"] + t["mean"]) + _EPS, 0.0, 1.0)

        out = np.empty(num_rows, dtype=np.float64)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with (
                ThreadPoolExecutor(max_workers=threads) as pool,
                tqdm(total=num_rows, desc="surrogate predictions", unit="cell", disable=not progress) as bar,
            ):
                starts = range(0, num_rows, batch)
                for start, part in zip(starts, pool.map(predict, starts), strict=True):
                    out[start : start + part.size] = part
                    bar.update(part.size)
        finally:
            torch.set_num_threads(threads)
        return out


def fit_surrogate(
    values: np.ndarray,
    space: Any,
    config: SurrogateConfig = SurrogateConfig(),
    *,
    data_sha256: str = "",
    progress: bool = True,
) -> SurrogateModel:
    """Fit the surrogate on real 108-epoch test accuracies and measure held-out fidelity.

    Args:
        values: (423624,) accuracies in [0, 1] in row (hash) order.
        space: the `CellSpace`.
        config: model and training settings.
        data_sha256: SHA-256 of the data file, recorded in the metadata.
        progress: show a progress bar over epochs.

    Returns:
        The fitted model; `meta["fidelity"]` holds Spearman, Kendall tau, R^2
        and top-1000 overlap on the held-out cells.
    """
    start = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    x_all = space_features(space)
    y_all = np.asarray(values, dtype=np.float64)
    hold, train = _split_rows(rng, len(y_all), config.max_cells, config.holdout)
    target = np.log(1.0 - y_all + _EPS)
    t_mean, t_scale = float(target[train].mean()), float(target[train].std())
    f_mean = x_all[train].mean(0)
    f_scale = x_all[train].std(0)
    f_scale[f_scale < 1e-6] = 1.0
    x_train = torch.from_numpy((x_all[train] - f_mean) / f_scale)
    y_train = torch.from_numpy(((target[train] - t_mean) / t_scale).astype(np.float32))

    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    nets = []
    steps_per_epoch = int(np.ceil(len(train) / config.batch_size))
    bar = tqdm(total=config.ensemble * config.epochs, desc="fitting surrogate", unit="epoch", disable=not progress)
    for _ in range(config.ensemble):
        init_seed = int(torch.randint(2**62, (1,), generator=generator))
        net = seeded(init_seed, lambda: _mlp(x_all.shape[1], config.hidden, config.layers))
        optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimiser, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch, pct_start=0.1
        )
        for _ in range(config.epochs):
            order = torch.randperm(len(train), generator=generator)
            for s in range(0, len(train), config.batch_size):
                idx = order[s : s + config.batch_size]
                loss = nn.functional.mse_loss(net(x_train[idx])[:, 0], y_train[idx])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
            bar.update(1)
        net.eval()
        nets.append(net)
    bar.close()

    weights = _weight_arrays(nets, f_mean, f_scale)
    meta = {
        "artifact_version": SurrogateModel.VERSION,
        "about": "MLP-ensemble surrogate of NB101 108-epoch mean test accuracy (modelled, not real data)",
        "architecture": {
            "inputs": int(x_all.shape[1]),
            "hidden": config.hidden,
            "layers": config.layers,
            "ensemble": config.ensemble,
        },
        "target": {"transform": "log(1 - accuracy + 1e-3), standardised", "mean": t_mean, "scale": t_scale},
        "config": asdict(config),
        "data_sha256": data_sha256,
        "train_cells": len(train),
        "holdout_cells": int(hold.size),
        "holdout_rows_seed": config.seed,
        "fit_seconds": None,
        "fidelity": None,
        "torch_version": torch.__version__,
    }
    model = SurrogateModel(weights, meta)
    predicted = model.predict_features(x_all[hold])
    meta["fidelity"] = fidelity(predicted, y_all[hold])
    meta["fit_seconds"] = round(time.perf_counter() - start, 1)
    return model


def holdout_rows(model: SurrogateModel, num_cells: int) -> np.ndarray:
    """The held-out rows of a fitted model (re-derived from its seed and split)."""
    config = model.meta["config"]
    return _split_rows(np.random.default_rng(config["seed"]), num_cells, config["max_cells"], config["holdout"])[0]


def embedded_path() -> Path:
    """Path stem of the artifact shipped in the package (`.npz` + `.json`)."""
    return Path(str(resources.files("nasbench_sim") / "data" / EMBEDDED_NAME))


def load_embedded() -> SurrogateModel:
    """The surrogate shipped in the package."""
    return SurrogateModel.load(embedded_path())


def build_surrogate_table(
    model: SurrogateModel,
    space: Any,
    *,
    noise: NoiseModel = DEFAULT_NOISE,
    realization: int = 0,
    mean: np.ndarray | None = None,
    budget_model: BudgetModel | None = None,
    budget_base: np.ndarray | None = None,
) -> BenchmarkTable:
    """One noise realization of the surrogate table: the noise model around the surrogate's mean predictions.

    Args:
        model: the fitted surrogate.
        space: the `CellSpace`.
        noise: the noise model of the repeats and the other fields.
        realization: which noise realization (each has its own seeded stream).
        mean: (423624,) the model's predictions of every cell if already computed (else predicted here).
        budget_model: models the 4, 12 and 36-epoch budgets (None: the table has 108 epochs only).
        budget_base: its predictions of every cell if already computed (`budgets.predict_space`).
    """
    provenance = Provenance(
        kind="surrogate",
        seed=SURROGATE_SEED,
        origin={
            "source": f"embedded NB101 surrogate ({model.meta['about']})",
            "surrogate_sha256": model.sha256,
            "surrogate_fidelity": model.meta["fidelity"],
            "surrogate_data_sha256": model.meta["data_sha256"],
        },
        modelled_fields=(
            "mean test_accuracy (surrogate prediction)",
            "all repeats, validation, train, time, halfway values",
        ),
    )
    return build_modelled_table(
        space,
        provenance,
        level=model.predict_space(space) if mean is None else mean,
        noise=noise,
        realization=realization,
        budget_model=budget_model,
        budget_base=budget_base,
    )
