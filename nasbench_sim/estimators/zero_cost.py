"""Zero-cost proxies at initialisation that use one batch of data: grad_norm, snip, jacob_cov, NASWOT.

Definitions (higher is predicted better), on the network with batch norm in
training mode, weights from PyTorch's default initialisation drawn from a
seeded torch generator (`data_free.build_network`), one batch (x, y):

- `grad_norm` (Abdelfattah et al., ICLR 2021): the sum over convolution and
  linear weights of the Euclidean norm of d(cross-entropy)/dW.
- `snip` (Lee et al., ICLR 2019, as Abdelfattah et al. score it): the sum of
  |W * d(cross-entropy)/dW| over the same weights.
- `jacob_cov` (Mellor et al. 2020, v1): J = d(sum of logits)/dx per image
  (B, D); with the eigenvalues l of J's (B, B) correlation matrix,
  -sum(log(l + 1e-5) + 1 / (l + 1e-5)).
- `naswot` (Mellor et al., ICML 2021): the binary code of every image is which
  ReLU units are active; K[i, j] = units where images i and j agree; log|det K|.
- `synflow` of the same network with this batch's image size (`data_free.synflow`),
  and `params` (trainable parameters).

Example:
    >>> import numpy as np, torch
    >>> from nasbench_sim.estimators.zero_cost import score_batch
    >>> from nasbench_sim.space import Cell
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32); y = np.arange(8) % 10
    >>> out = score_batch(cell, x, y, seed=0, in_channels=1, stem_channels=4, num_stacks=1, cells_per_stack=1)
    >>> sorted(out)
    ['grad_norm', 'jacob_cov', 'naswot', 'params', 'snip', 'synflow']
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nasbench_sim.estimators.data_free import build_network, synflow
from nasbench_sim.space.cell import Cell

#: The proxies `score_batch` computes.
PROXIES = ("grad_norm", "snip", "jacob_cov", "naswot", "synflow", "params")


def _weights(net: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def score_batch(
    cell: Cell, x: np.ndarray, y: np.ndarray, *, seed: int, device: str = "cpu", **network: int
) -> dict[str, float]:
    """Every proxy of `PROXIES` for one cell and one batch.

    Args:
        cell: the cell.
        x: (B, C, H, W) float32 images; y: (B,) int labels.
        seed: seeds the torch generator of the weights (the same weights for every proxy).
        device: torch device.
        **network: `NB101Network` arguments (in_channels, stem_channels, num_stacks, cells_per_stack, ...).
    """
    images = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
    labels = torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device)

    def fresh() -> nn.Module:
        generator = torch.Generator().manual_seed(seed)
        return build_network(cell, generator, device=device, batch_norm=True, dtype=torch.float32, **network).train()

    out: dict[str, float] = {}
    net = fresh()
    nn.functional.cross_entropy(net(images), labels).backward()
    weights = _weights(net)
    out["grad_norm"] = float(sum(w.grad.norm() for w in weights))
    out["snip"] = float(sum((w.detach() * w.grad).abs().sum() for w in weights))

    net = fresh()
    inputs = images.clone().requires_grad_(True)
    net(inputs).sum().backward()
    jacobian = inputs.grad.reshape(len(inputs), -1).double().cpu().numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.corrcoef(jacobian)
    k = 1e-5
    if np.isfinite(correlation).all():
        eigenvalues = np.linalg.eigvalsh(correlation)
        out["jacob_cov"] = float(-np.sum(np.log(eigenvalues + k) + 1.0 / (eigenvalues + k)))
    else:  # an image whose Jacobian is constant (e.g. zero): the correlation is undefined
        out["jacob_cov"] = float("nan")

    net = fresh()
    kernel = torch.zeros(len(images), len(images), dtype=torch.float64, device=images.device)

    def agreements(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        nonlocal kernel  # (B, B) units where two images agree, summed layer by layer (memory stays B x B)
        c = (output > 0).reshape(len(output), -1).double()
        kernel = kernel + c @ c.T + (1 - c) @ (1 - c).T

    hooks = [m.register_forward_hook(agreements) for m in net.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        net(images)
    for hook in hooks:
        hook.remove()
    out["naswot"] = float(torch.linalg.slogdet(kernel)[1])

    out["synflow"] = synflow(
        cell, torch.Generator().manual_seed(seed), device=device, image_size=x.shape[-1], **network
    )
    out["params"] = float(sum(p.numel() for p in net.parameters() if p.requires_grad))
    return out
