"""BANANAS' surrogate: an ensemble of independently initialised MLPs trained on the same data.

Keras-faithful, as naszilla's `meta_neural_net.py`: Glorot init, Adam(0.01, 0.9,
0.99), MAE loss, mini-batches of 32; the prediction is the mean and the spread
across members. The members of many runs train as one stack (`stacked.StackedModel`).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.models.ensemble import MLPEnsemble, EnsembleConfig
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 2, (30, 6)).astype(np.float32); y = X.sum(1)
    >>> model = MLPEnsemble(EnsembleConfig(members=2, epochs=20), rng, device="cpu")
    >>> model.fit(X, y)
    >>> mean, std = model.predict(X[:3]); mean.shape, std.shape
    ((3,), (3,))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nasbench_sim._nn import ParameterStack, StackedAdam, glorot_stack, join_rows, resolve_device, rows, stacked_mlp
from nasbench_sim.errors import ConfigError
from nasbench_sim.search.models.stacked import StackedModel, check_positive, pad_stack


@dataclass(frozen=True, kw_only=True)
class EnsembleConfig:
    """BANANAS' meta neural network ensemble (naszilla `meta_neural_net.py` defaults).

    Attributes:
        members: networks in the ensemble.
        layers: hidden layers of each (ReLU), then a linear output.
        width: units per hidden layer.
        epochs: passes over the data per fit (from scratch each fit).
        batch_size: shuffled mini-batch size (the last batch may be smaller).
        lr: Adam learning rate; betas and eps are Keras' (0.9, 0.99, 1e-7).
        loss: 'mae' (naszilla) or 'mse'.
    """

    members: int = 5
    layers: int = 10
    width: int = 20
    epochs: int = 150
    batch_size: int = 32
    lr: float = 0.01
    loss: str = "mae"

    def __post_init__(self) -> None:
        check_positive(self, "members", "layers", "width", "epochs", "batch_size")
        if self.loss not in ("mae", "mse"):
            raise ConfigError(f"unknown loss {self.loss!r} (choices: mae, mse)")


class MLPEnsemble(StackedModel):
    """See `EnsembleConfig`; `std` is the population std across members (BANANAS' ITS)."""

    def __init__(self, config: EnsembleConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        self.config, self.rng, self.device = config, rng, resolve_device(device)
        self.params: list[torch.Tensor] | None = None

    @classmethod
    def _fit_many(cls, models: list[MLPEnsemble], Xs: list[np.ndarray], ys: list[np.ndarray]) -> None:
        c, device = models[0].config, models[0].device
        m, n = c.members, Xs[0].shape[0]
        sizes = [Xs[0].shape[1], *[c.width] * c.layers, 1]
        member_rngs = [model.rng.spawn(m) for model in models]  # one stream per network
        stack = ParameterStack(glorot_stack([r for rngs in member_rngs for r in rngs], sizes), device)
        params = stack.layers
        x = torch.from_numpy(np.repeat(np.stack(Xs).astype(np.float32), m, axis=0)).to(device)  # (S, n, D)
        y = torch.from_numpy(np.repeat(np.stack(ys).astype(np.float32), m, axis=0)).to(device)  # (S, n)
        optimiser = StackedAdam(stack, lr=c.lr, betas=(0.9, 0.99), eps=1e-7)
        net_index = torch.arange(x.shape[0], device=device)[:, None]
        for _ in range(c.epochs):
            order = np.stack([r.permutation(n) for rngs in member_rngs for r in rngs])
            order_t = torch.from_numpy(order).to(device)
            for start in range(0, n, c.batch_size):
                idx = order_t[:, start : start + c.batch_size]
                pred = stacked_mlp(params, x[net_index, idx])[..., 0]
                err = pred - y[net_index, idx]
                per_net = err.abs().mean(1) if c.loss == "mae" else (err**2).mean(1)
                per_net.sum().backward()  # a sum: each network's gradient is its own loss's
                optimiser.step()
        for k, model in enumerate(models):
            model.params = rows(params, k * m, (k + 1) * m)

    @classmethod
    def _predict_many(cls, models: list[MLPEnsemble], Xs: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        if any(model.params is None for model in models):
            raise RuntimeError("predict before fit")
        device, m = models[0].device, models[0].config.members
        padded, rows = pad_stack(Xs)
        x = torch.from_numpy(np.repeat(padded, m, axis=0)).to(device)
        params = join_rows([model.params for model in models])
        with torch.no_grad():
            preds = stacked_mlp(params, x)[..., 0].double().cpu().numpy().reshape(len(models), m, -1)
        return [(p[:, :r].mean(0), p[:, :r].std(0)) for p, r in zip(preds, rows, strict=True)]
