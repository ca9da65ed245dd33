"""Small PyTorch building blocks shared by the package (surrogates, the MNIST study).

Example:
    >>> from nasbench_sim._nn import mlp
    >>> mlp(4, 8, 1, layers=2)[0].in_features
    4
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch
from torch import nn

T = TypeVar("T")


def mlp(n_in: int, hidden: int, n_out: int, *, layers: int = 2, activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """`layers` hidden (Linear, activation) blocks of width `hidden`, then a Linear to `n_out`."""
    blocks: list[nn.Module] = []
    width = n_in
    for _ in range(layers):
        blocks += [nn.Linear(width, hidden), activation()]
        width = hidden
    blocks.append(nn.Linear(width, n_out))
    return nn.Sequential(*blocks)


def resolve_device(device: str) -> torch.device:
    """'auto' -> CUDA when available, else CPU; otherwise the named device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def seeded(seed: int, build: Callable[[], T]) -> T:
    """`build()` with torch's global RNG seeded by `seed`, restoring that RNG afterwards.

    Module initialisation draws from the global generator; this makes it follow
    the caller's seed without leaving a trace on global state.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()
