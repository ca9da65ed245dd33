"""The NB101 network as a PyTorch module, built from a cell.

Follows `nasbench.lib.model_builder`: a 3x3 conv-bn-relu stem, `num_stacks`
stacks of `cells_per_stack` cells with 2x2 max-pool downsampling and channel
doubling between stacks, global average pooling and a linear classifier.
Inside a cell, vertex inputs are summed, the output concatenates its fan-in,
edges from the input go through a 1x1 conv-bn-relu projection, and channels
are split as in the official `compute_vertex_channels` (see `params`).

Example:
    >>> import torch
    >>> from nasbench_sim.space import Cell
    >>> from nasbench_sim.space.network import NB101Network
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> net = NB101Network(cell, in_channels=1, stem_channels=16, num_stacks=2, cells_per_stack=1)
    >>> net(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import torch
from torch import nn

from nasbench_sim.space.cell import CONV1X1, CONV3X3, MAXPOOL3X3, Cell
from nasbench_sim.space.params import vertex_channels

#: Batch-norm settings of the official code (TF momentum 0.997 = PyTorch 0.003).
BN_MOMENTUM = 0.003
BN_EPSILON = 1e-5


class ConvBnRelu(nn.Sequential):
    """k x k convolution (no bias, 'same' padding), batch norm, ReLU."""

    def __init__(self, kernel: int, c_in: int, c_out: int, bn_momentum: float = BN_MOMENTUM) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=BN_EPSILON, momentum=bn_momentum),
            nn.ReLU(inplace=False),
        )


def _vertex_op(op: str, channels: int, bn_momentum: float) -> nn.Module:
    if op == CONV3X3:
        return ConvBnRelu(3, channels, channels, bn_momentum)
    if op == CONV1X1:
        return ConvBnRelu(1, channels, channels, bn_momentum)
    if op == MAXPOOL3X3:
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"unknown op {op!r}")


class CellModule(nn.Module):
    """One NB101 cell mapping (B, c_in, H, W) to (B, c_out, H, W)."""

    def __init__(self, cell: Cell, c_in: int, c_out: int, bn_momentum: float = BN_MOMENTUM) -> None:
        super().__init__()
        self.rows = cell.matrix.tolist()
        n = len(self.rows)
        self.channels = vertex_channels(c_in, c_out, self.rows)
        self.vertex_ops = nn.ModuleList(_vertex_op(cell.ops[t], self.channels[t], bn_momentum) for t in range(1, n - 1))
        self.input_projections = nn.ModuleDict(
            {str(t): ConvBnRelu(1, c_in, self.channels[t], bn_momentum) for t in range(1, n - 1) if self.rows[0][t]}
        )
        self.output_fan_in = [t for t in range(1, n - 1) if self.rows[t][n - 1]]
        needs_output_projection = not self.output_fan_in or self.rows[0][n - 1]
        self.output_projection = ConvBnRelu(1, c_in, c_out, bn_momentum) if needs_output_projection else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.rows)
        tensors = [x]
        for t in range(1, n - 1):
            width = self.channels[t]
            inputs = [tensors[s][:, :width] for s in range(1, t) if self.rows[s][t]]
            if str(t) in self.input_projections:
                inputs.append(self.input_projections[str(t)](x))
            total = inputs[0]
            for extra in inputs[1:]:
                total = total + extra
            tensors.append(self.vertex_ops[t - 1](total))
        if not self.output_fan_in:
            return self.output_projection(x)
        out = torch.cat([tensors[t] for t in self.output_fan_in], dim=1)
        if self.output_projection is not None:
            out = out + self.output_projection(x)
        return out


class NB101Network(nn.Module):
    """The NB101 image classifier for one cell.

    Args:
        cell: the cell repeated in every stack.
        in_channels: image channels (3 for CIFAR-10, 1 for MNIST).
        num_classes: classifier outputs.
        stem_channels: channels of the stem conv (128 in NB101).
        num_stacks: stacks of cells (3); downsampling between stacks.
        cells_per_stack: cells per stack (3).
        bn_momentum: PyTorch batch-norm momentum; the official 0.003 (TF 0.997)
            suits NB101's 108-epoch training, short runs need ~0.1.

    Input (B, in_channels, H, W) float; output (B, num_classes) logits.
    """

    def __init__(
        self,
        cell: Cell,
        *,
        in_channels: int = 3,
        num_classes: int = 10,
        stem_channels: int = 128,
        num_stacks: int = 3,
        cells_per_stack: int = 3,
        bn_momentum: float = BN_MOMENTUM,
    ) -> None:
        super().__init__()
        self.stem = ConvBnRelu(3, in_channels, stem_channels, bn_momentum)
        layers: list[nn.Module] = []
        c_in = channels = stem_channels
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))  # TF 'same' 2x2/2 pooling
                channels *= 2
            for _ in range(cells_per_stack):
                layers.append(CellModule(cell, c_in, channels, bn_momentum))
                c_in = channels
        self.cells = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cells(self.stem(x))
        return self.classifier(x.mean(dim=(2, 3)))


def num_trainable_parameters(module: nn.Module) -> int:
    """Sum of `numel` over parameters that require gradients."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
