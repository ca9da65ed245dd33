"""Small PyTorch building blocks shared by the surrogates.

Example:
    >>> from nasbench_sim._nn import mlp
    >>> mlp(4, 8, 1, layers=2)[0].in_features
    4
"""

from __future__ import annotations

from torch import nn


def mlp(n_in: int, hidden: int, n_out: int, *, layers: int = 2, activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """`layers` hidden (Linear, activation) blocks of width `hidden`, then a Linear to `n_out`."""
    blocks: list[nn.Module] = []
    width = n_in
    for _ in range(layers):
        blocks += [nn.Linear(width, hidden), activation()]
        width = hidden
    blocks.append(nn.Linear(width, n_out))
    return nn.Sequential(*blocks)
