"""Small PyTorch building blocks shared by the package (surrogates, the MNIST study).

Example:
    >>> from nasbench_sim._nn import mlp
    >>> mlp(4, 8, 1, layers=2)[0].in_features
    4
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch
from torch import nn

from nasbench_sim.errors import ConfigError

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
    """The torch device of a device option: 'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N'.

    Raises:
        ConfigError: another name, or CUDA asked for while `torch.cuda.is_available()` is False.
    """
    if not isinstance(device, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):
        raise ConfigError(f"bad device {device!r} (choices: auto, cpu, cuda, cuda:N)")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r}: torch.cuda.is_available() is False (no GPU or a CPU-only torch build); "
            "use device 'cpu' or 'auto'"
        )
    return torch.device(device)


def seeded(seed: int, build: Callable[[], T]) -> T:
    """`build()` with torch's global RNG seeded by `seed`, restoring that RNG afterwards.

    Module initialisation draws from the global generator; this makes it follow
    the caller's seed without leaving a trace on global state.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


# --- stacks of independent networks, trained as one batched computation -------------------
def glorot_stack(rngs: list[np.random.Generator], sizes: list[int]) -> list[np.ndarray]:
    """Glorot-uniform weights and zero biases of one MLP per generator, stacked on axis 0.

    Args:
        rngs: one random stream per network (each draws its own layers, in order).
        sizes: layer widths, input first (e.g. [40, 20, 20, 1]).

    Returns:
        [W_1, b_1, W_2, b_2, ...] with W_l (S, sizes[l-1], sizes[l]) and b_l (S, 1, sizes[l]), float32.
    """
    out: list[np.ndarray] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        out.append(np.stack([r.uniform(-limit, limit, (fan_in, fan_out)) for r in rngs]).astype(np.float32))
        out.append(np.zeros((len(rngs), 1, fan_out), dtype=np.float32))
    return out


def stacked_mlp(params: list[torch.Tensor], x: torch.Tensor, activation=torch.relu) -> torch.Tensor:
    """Forward pass of S stacked MLPs: x (S, N, D) -> (S, N, out); `activation` between layers."""
    for layer in range(0, len(params), 2):
        x = torch.baddbmm(params[layer + 1], x, params[layer])
        if layer + 2 < len(params):
            x = activation(x)
    return x


_BLOCK = 64


class ParameterStack:
    """Parameters of S networks, layer by layer, in one flat buffer (and gradients in another).

    Each layer is a contiguous (S, ...) view of the buffer and an autograd leaf
    whose `.grad` is a view of the gradient buffer, so one optimiser step updates
    every layer of every network with a handful of operations.

    Args:
        layers: per layer an (S, ...) array or tensor (network first).
        device: where the buffers live.
    """

    def __init__(self, layers: list[np.ndarray | torch.Tensor], device: torch.device | str) -> None:
        tensors = [torch.as_tensor(layer) for layer in layers]
        self.shapes = [tuple(t.shape) for t in tensors]
        flat = torch.cat([t.reshape(-1) for t in tensors])
        # Pad to whole SIMD blocks: every element then takes the same vectorised code path, so a
        # network's update never depends on its position in the stack.
        padding = torch.zeros((-flat.numel()) % _BLOCK, dtype=flat.dtype)
        self.data = torch.cat([flat, padding]).to(device=device, dtype=torch.float32)
        self.grad = torch.zeros_like(self.data)
        self.layers = self._views(self.data)
        for layer, grad in zip(self.layers, self._views(self.grad), strict=True):
            layer.requires_grad_(True)
            layer.grad = grad

    def _views(self, buffer: torch.Tensor) -> list[torch.Tensor]:
        views, offset = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            views.append(buffer[offset : offset + size].view(shape))
            offset += size
        return views

    def per_layer(self, buffer: torch.Tensor) -> list[torch.Tensor]:
        """A buffer with this stack's layout (e.g. optimiser state) split into its layers."""
        return self._views(buffer)

    def zero_grad(self) -> None:
        self.grad.zero_()


def rows(layers: list[torch.Tensor], start: int, stop: int) -> list[torch.Tensor]:
    """Networks start..stop-1 of per-layer stacked tensors (detached copies)."""
    return [layer.detach()[start:stop].clone() for layer in layers]


def join_rows(parts: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    """Per-layer concatenation of several stacks' layers (the inverse of `rows`)."""
    return [torch.cat([part[i] for part in parts]) for i in range(len(parts[0]))]


class StackedAdam:
    """Adam over a `ParameterStack`, elementwise on its flat buffers.

    Network s's update depends only on network s (the same in a stack of 1 or
    1,000). All networks of a stack have taken the same number of steps.

    Args:
        stack: the parameters.
        lr, betas, eps: as in `torch.optim.Adam` (Keras' default eps is 1e-7).
        state: (exp_avg layers, exp_avg_sq layers, steps) to resume from (see `state_layers`).
    """

    def __init__(
        self,
        stack: ParameterStack,
        *,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        state: tuple[list[torch.Tensor], list[torch.Tensor], int] | None = None,
    ) -> None:
        self.stack, self.lr, self.betas, self.eps = stack, lr, betas, eps
        if state is None:
            self.exp_avg, self.exp_avg_sq, self.steps = torch.zeros_like(stack.data), torch.zeros_like(stack.data), 0
        else:
            self.exp_avg, self.exp_avg_sq = (self._pack(state[0]), self._pack(state[1]))
            self.steps = int(state[2])
        self._step = torch.tensor(float(self.steps), device=stack.data.device)

    def _pack(self, layers: list[torch.Tensor]) -> torch.Tensor:
        out = torch.zeros_like(self.stack.data)
        flat = torch.cat([t.reshape(-1) for t in layers]).to(out.device)
        out[: flat.numel()] = flat
        return out

    @torch.no_grad()
    def step(self) -> None:
        b1, b2 = self.betas
        self.steps += 1
        self._step += 1
        data, grad = self.stack.data, self.stack.grad
        if hasattr(torch, "_fused_adam_"):  # one pass over memory (several times faster than separate ops)
            torch._fused_adam_(
                [data],
                [grad],
                [self.exp_avg],
                [self.exp_avg_sq],
                [],
                [self._step],
                amsgrad=False,
                lr=self.lr,
                beta1=b1,
                beta2=b2,
                weight_decay=0.0,
                eps=self.eps,
                maximize=False,
            )
        else:
            self.exp_avg.mul_(b1).add_(grad, alpha=1 - b1)
            self.exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1 - b2)
            denom = (self.exp_avg_sq / (1 - b2**self.steps)).sqrt_().add_(self.eps)
            data.addcdiv_(self.exp_avg, denom, value=-self.lr / (1 - b1**self.steps))
        self.stack.zero_grad()

    def state_layers(self) -> tuple[list[torch.Tensor], list[torch.Tensor], int]:
        """The state split into layers (each (S, ...)), for `rows` / `join_rows`."""
        return self.stack.per_layer(self.exp_avg), self.stack.per_layer(self.exp_avg_sq), self.steps
