"""Data-free zero-cost proxies of NB101 cells: synflow, parameter count and FLOPs of the full-size network.

- `synflow` (Tanaka et al., NeurIPS 2020, as Abdelfattah et al., ICLR 2021 score
  NB101): the network without batch norm, in float64, every parameter replaced
  by its absolute value; R = the sum of the logits for an all-ones input of one
  CIFAR-10 image (1, 3, 32, 32); the score is the sum over every convolution and
  linear weight of |theta * dR/dtheta|. Weights are drawn with PyTorch's default
  initialisation (Kaiming-uniform, a = sqrt(5); biases uniform in +-1/sqrt(fan_in))
  from a torch generator seeded from the caller's rng, so no global random state
  is used or changed.
- `params`, `flops`: exact counts of the same network (`nasbench_sim.space.params`).

Higher is predicted better for all three.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.estimators.data_free import score_cells
    >>> from nasbench_sim.space import Cell
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> scores = score_cells([cell], ["synflow", "params"], np.random.default_rng(0), stem_channels=8)
    >>> bool(scores["synflow"][0] > 0), int(scores["params"][0])
    (True, 44642)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from nasbench_sim.errors import ConfigError
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.network import NB101Network
from nasbench_sim.space.params import count_flops, count_parameters

#: The data-free proxies, by name.
PROXIES = ("synflow", "params", "flops")


def build_network(
    cell: Cell,
    generator: torch.Generator,
    *,
    device: str = "cpu",
    batch_norm: bool = False,
    dtype: torch.dtype = torch.float64,
    **network: int,
) -> nn.Module:
    """The NB101 network of `cell`, initialised from `generator` (PyTorch's default initialisation).

    Args:
        cell: the cell.
        generator: CPU torch generator the weights are drawn from (on the CPU, then moved to `device`).
        device: torch device.
        batch_norm: keep the batch norms (initialised to the identity); False: remove them.
        dtype: parameter dtype.
        **network: `NB101Network` arguments (in_channels, stem_channels, num_stacks, cells_per_stack, ...).
    """
    with torch.device("meta"):  # no initialisation here: nothing drawn from the global generator
        net = NB101Network(cell, **network)
    if not batch_norm:
        for name, module in list(net.named_modules()):
            if isinstance(module, nn.BatchNorm2d):
                parent = net.get_submodule(name.rpartition(".")[0]) if "." in name else net
                setattr(parent, name.rpartition(".")[2], nn.Identity())
    net = net.to_empty(device="cpu").to(dtype)  # drawn on the CPU: the same weights on every device
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    bound = 1 / math.sqrt(module.weight[0].numel())
                    module.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()  # ones, zeros and fresh running statistics: no random draw
    return net.to(device)


def synflow(
    cell: Cell, generator: torch.Generator, *, device: str = "cpu", image_size: int = 32, **network: int
) -> float:
    """The synflow score of `cell`'s network (see the module docstring) for an all-ones image of `image_size`."""
    net = build_network(cell, generator, device=device, **network)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.abs_()
    channels = network.get("in_channels", 3)
    image = torch.ones(1, channels, image_size, image_size, dtype=torch.float64, device=device)
    net(image).sum().backward()
    total = 0.0
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            total += float((module.weight.detach() * module.weight.grad).abs().sum())
    return total


def score_cells(
    cells: Sequence[Cell],
    proxies: Sequence[str],
    rng: np.random.Generator,
    *,
    device: str = "cpu",
    progress: Callable[[int], None] | None = None,
    **network: int,
) -> dict[str, np.ndarray]:
    """Every proxy of every cell: name -> (len(cells),) float64 array.

    Args:
        cells: the cells.
        proxies: names from `PROXIES`.
        rng: seeds the torch generator of each cell's weights (one seed per cell, drawn in order).
        device: torch device of synflow.
        progress: called with 1 after each cell.
        **network: `NB101Network` sizes (default: NB101's full size).

    Raises:
        ConfigError: an unknown proxy name (the message lists the choices).
    """
    unknown = [p for p in proxies if p not in PROXIES]
    if unknown:
        raise ConfigError(f"unknown proxy {unknown[0]!r} (choices: {', '.join(PROXIES)})")
    seeds = rng.integers(0, 2**63 - 1, size=len(cells))
    out = {p: np.empty(len(cells), dtype=np.float64) for p in proxies}
    counted = ("in_channels", "stem_channels", "num_stacks", "cells_per_stack", "num_classes")
    sizes = {k: network[k] for k in counted if k in network}
    for i, cell in enumerate(cells):
        for proxy in proxies:
            if proxy == "synflow":
                generator = torch.Generator().manual_seed(int(seeds[i]))
                out[proxy][i] = synflow(cell, generator, device=device, **network)
            elif proxy == "params":
                out[proxy][i] = count_parameters(cell.matrix.tolist(), cell.ops, **sizes)
            else:
                out[proxy][i] = count_flops(cell.matrix.tolist(), cell.ops, **sizes)
        if progress is not None:
            progress(1)
    return out
