"""Surrogate models for model-based search: `fit(X, y)` then `predict(X) -> (mean, std)`.

X is (N, D) float32 cell encodings, y (N,) targets (higher is better); the
predictions are (B,) arrays in the units of y.

- `GPSurrogate`: scikit-learn Gaussian process (constant x Matern-5/2 + white noise).
- `NeuralProcess`: a PyTorch Neural Process (Garnelo et al. 2018) with a
  deterministic and a latent path, trained on all evaluated cells by random
  context/target splits; runs on CUDA when asked and available.
- `MLPEnsemble`: independently initialised MLPs (BANANAS); mean and spread
  across members.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.surrogates import GPSurrogate
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((20, 3)); y = X.sum(1)
    >>> gp = GPSurrogate(rng); gp.fit(X, y)
    >>> mean, std = gp.predict(X[:2]); mean.shape
    (2,)
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from torch import nn

from nasbench_sim._nn import mlp, resolve_device, seeded


def _torch_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**62))


class GPSurrogate:
    """Gaussian process on cell encodings (hyper-parameters by marginal likelihood)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.model: GaussianProcessRegressor | None = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            length_scale=np.sqrt(X.shape[1]), length_scale_bounds=(1e-1, 1e3), nu=2.5
        ) + WhiteKernel(1e-2, (1e-6, 1e0))
        self.model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=int(self.rng.integers(2**31)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(X, y)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.model.predict(X, return_std=True)
        return np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)


class _NPModule(nn.Module):
    def __init__(self, x_dim: int, hidden: int, r_dim: int, z_dim: int) -> None:
        super().__init__()
        self.deterministic = mlp(x_dim + 1, hidden, r_dim)
        self.latent = mlp(x_dim + 1, hidden, 2 * z_dim)
        self.decoder = mlp(x_dim + r_dim + z_dim, hidden, 2)
        self.z_dim = z_dim

    def encode(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.distributions.Normal]:
        pairs = torch.cat([x, y[:, None]], dim=1)
        r = self.deterministic(pairs).mean(0)
        stats = self.latent(pairs).mean(0)
        mu, raw = stats[: self.z_dim], stats[self.z_dim :]
        return r, torch.distributions.Normal(mu, 0.01 + 0.99 * torch.sigmoid(raw))

    def decode(self, x: torch.Tensor, r: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (T, D), r (R,), z (S, Z) -> mean, std each (S, T)."""
        s, t = z.shape[0], x.shape[0]
        inputs = torch.cat([x.expand(s, t, -1), r.expand(s, t, -1), z[:, None, :].expand(s, t, -1)], dim=2)
        out = self.decoder(inputs)
        return out[..., 0], 0.01 + nn.functional.softplus(out[..., 1])


class NeuralProcess:
    """Neural Process surrogate with a deterministic and a latent path.

    Training maximises the ELBO: log-likelihood of all points given a random
    context subset, minus KL(q(z | all) || q(z | context)). Prediction uses all
    evaluated cells as context and averages `num_z_samples` latent draws;
    the std combines decoder noise and the spread across draws.

    Args:
        rng: seeds the initialisation and the training splits.
        hidden, r_dim, z_dim: widths of the layers, deterministic and latent codes.
        steps: optimiser steps of the first fit; `refit_steps` for later fits
            (warm-started from the previous weights).
        lr: Adam learning rate.
        num_z_samples: latent samples at prediction time.
        device: 'auto', 'cpu' or 'cuda'.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        *,
        hidden: int = 128,
        r_dim: int = 64,
        z_dim: int = 32,
        steps: int = 300,
        refit_steps: int = 100,
        lr: float = 1e-3,
        num_z_samples: int = 32,
        device: str = "auto",
    ) -> None:
        self.rng = rng
        self.hidden, self.r_dim, self.z_dim = hidden, r_dim, z_dim
        self.steps, self.refit_steps, self.lr = steps, refit_steps, lr
        self.num_z_samples = num_z_samples
        self.device = resolve_device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(_torch_seed(rng))
        self.module: _NPModule | None = None
        self.optimiser: torch.optim.Optimizer | None = None
        self._context: tuple[torch.Tensor, torch.Tensor] | None = None

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.float32), device=self.device)

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        x_t, y_t = self._tensor(X), self._tensor(y)
        steps = self.refit_steps
        if self.module is None:
            self.module = seeded(
                _torch_seed(self.rng),
                lambda: _NPModule(X.shape[1], self.hidden, self.r_dim, self.z_dim).to(self.device),
            )
            self.optimiser = torch.optim.Adam(self.module.parameters(), lr=self.lr)
            steps = self.steps
        n = x_t.shape[0]
        self.module.train()
        for _ in range(steps):
            perm = torch.randperm(n, generator=self.generator, device=self.device)
            size = (
                int(torch.randint(max(1, n // 2), n, (1,), generator=self.generator, device=self.device))
                if n > 1
                else 1
            )
            ctx = perm[:size]
            r, q_context = self.module.encode(x_t[ctx], y_t[ctx])
            _, q_all = self.module.encode(x_t, y_t)
            eps = torch.randn(q_all.loc.shape, generator=self.generator, device=self.device)
            z = (q_all.loc + q_all.scale * eps)[None, :]
            mean, std = self.module.decode(x_t, r, z)
            nll = -torch.distributions.Normal(mean[0], std[0]).log_prob(y_t).mean()
            kl = torch.distributions.kl_divergence(q_all, q_context).sum() / n
            loss = nll + kl
            self.optimiser.zero_grad()
            loss.backward()
            self.optimiser.step()
        self._context = (x_t, y_t)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.module.eval()
        with torch.no_grad():
            r, q = self.module.encode(*self._context)
            eps = torch.randn((self.num_z_samples, self.z_dim), generator=self.generator, device=self.device)
            z = q.loc + q.scale * eps
            mean, std = self.module.decode(self._tensor(X), r, z)
            total_mean = mean.mean(0)
            total_std = torch.sqrt((std**2).mean(0) + mean.var(0, unbiased=False))
        return total_mean.double().cpu().numpy(), total_std.double().cpu().numpy()


class MLPEnsemble:
    """BANANAS' predictor: an ensemble of MLPs trained on the same data from different inits.

    Args:
        rng: seeds the initialisations and batches.
        members: networks in the ensemble (BANANAS: 5).
        hidden, layers: network shape.
        epochs: full-batch Adam steps per fit (from scratch each fit).
        lr: learning rate.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        *,
        members: int = 5,
        hidden: int = 20,
        layers: int = 3,
        epochs: int = 200,
        lr: float = 1e-2,
    ) -> None:
        self.rng = rng
        self.members, self.hidden, self.layers, self.epochs, self.lr = members, hidden, layers, epochs, lr
        self.nets: list[nn.Module] = []

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        x_t = torch.as_tensor(np.asarray(X, dtype=np.float32))
        y_t = torch.as_tensor(np.asarray(y, dtype=np.float32))
        self.nets = []
        for _ in range(self.members):
            net = seeded(_torch_seed(self.rng), lambda: mlp(x_t.shape[1], self.hidden, 1, layers=self.layers))
            optimiser = torch.optim.Adam(net.parameters(), lr=self.lr)
            for _ in range(self.epochs):
                loss = nn.functional.mse_loss(net(x_t)[:, 0], y_t)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            net.eval()
            self.nets.append(net)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x_t = torch.as_tensor(np.asarray(X, dtype=np.float32))
        with torch.no_grad():
            preds = torch.stack([net(x_t)[:, 0] for net in self.nets]).double().numpy()
        return preds.mean(0), preds.std(0)
