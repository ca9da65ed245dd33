"""One-shot weight sharing: a supernet that holds every NB101 cell, trained by sampling cells, scores cells.

The supernet has the NB101 network's skeleton (stem, stacks of cells with
2x2 max-pool and channel doubling between stacks, global pooling, linear
classifier); each cell position holds one shared cell of 5 intermediate nodes,
and node t holds one module per operation (3x3 and 1x1 conv-bn-relu, 3x3 max
pool) and a 1x1 projection from the cell's input. An NB101 cell with n
vertices is the path through it that uses nodes 1 ... n-2 with the cell's
operations and edges (vertex t of the cell is node t), so every cell of the
space is a sub-network and all share weights.

A documented variant of NB101's cell, as in NAS-Bench-1Shot1's fixed-width
choice blocks: every node works at the stack's full width and the output sums
its inputs (NB101 splits the width between the vertices and concatenates them),
so one set of weights fits every cell. Batch norm always uses the statistics of
the batch at hand (no running averages, which would mix sub-networks).
Training is single-path with uniform sampling: each SGD step trains the
sub-network of a cell drawn by `space.sampling.random_cell` (Guo et al. 2020;
the random-sampling one-shot of Li & Talwalkar 2019). A candidate's score is
its sub-network's validation accuracy with the shared weights, untrained
further.

Example:
    >>> import torch
    >>> from nasbench_sim.lab.supernet import SuperNet
    >>> from nasbench_sim.space import Cell
    >>> net = SuperNet(in_channels=1, stem_channels=4, num_stacks=2, cells_per_stack=1)
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> net(torch.zeros(2, 1, 8, 8), cell).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nasbench_sim._nn import seeded
from nasbench_sim.activesel.config import TrainConfig
from nasbench_sim.activesel.data import ImageData, Split
from nasbench_sim.activesel.train import cosine_optimiser, steps_per_epoch
from nasbench_sim.space.cell import CONV1X1, CONV3X3, MAX_VERTICES, MAXPOOL3X3, Cell
from nasbench_sim.space.sampling import random_cell

#: Intermediate nodes of a supernet cell (every NB101 cell has at most this many).
NODES = MAX_VERTICES - 2


def _conv(kernel: int, c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out, track_running_stats=False),
        nn.ReLU(),
    )


class SuperCell(nn.Module):
    """The shared cell: (B, c_in, H, W) -> (B, c_out, H, W) along the path of one NB101 cell."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(
            nn.ModuleDict(
                {
                    CONV3X3.replace("-", "_"): _conv(3, c_out, c_out),
                    CONV1X1.replace("-", "_"): _conv(1, c_out, c_out),
                    MAXPOOL3X3.replace("-", "_"): nn.MaxPool2d(3, stride=1, padding=1),
                }
            )
            for _ in range(NODES)
        )
        self.input_projections = nn.ModuleList(_conv(1, c_in, c_out) for _ in range(NODES))
        self.output_projection = _conv(1, c_in, c_out)

    def forward(self, x: torch.Tensor, cell: Cell) -> torch.Tensor:
        rows = cell.matrix
        n = len(rows)
        tensors: list[torch.Tensor | None] = [None] * n
        for t in range(1, n - 1):
            inputs = [tensors[s] for s in range(1, t) if rows[s][t]]
            if rows[0][t]:
                inputs.append(self.input_projections[t - 1](x))
            tensors[t] = self.ops[t - 1][cell.ops[t].replace("-", "_")](sum(inputs[1:], inputs[0]))
        fan_in = [tensors[t] for t in range(1, n - 1) if rows[t][n - 1]]
        if rows[0][n - 1] or not fan_in:
            fan_in.append(self.output_projection(x))
        return sum(fan_in[1:], fan_in[0])


class SuperNet(nn.Module):
    """The supernet; `forward(x, cell)` runs `cell`'s sub-network: (B, in_channels, H, W) -> (B, classes) logits."""

    def __init__(
        self, *, in_channels: int, num_classes: int = 10, stem_channels: int, num_stacks: int, cells_per_stack: int
    ) -> None:
        super().__init__()
        self.stem = _conv(3, in_channels, stem_channels)
        self.cells = nn.ModuleList()
        self.pool_before: list[bool] = []
        c_in = channels = stem_channels
        for stack in range(num_stacks):
            if stack > 0:
                channels *= 2
            for position in range(cells_per_stack):
                self.cells.append(SuperCell(c_in, channels))
                self.pool_before.append(stack > 0 and position == 0)
                c_in = channels
        self.pool = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor, cell: Cell) -> torch.Tensor:
        x = self.stem(x)
        for pool, module in zip(self.pool_before, self.cells, strict=True):
            x = module(self.pool(x) if pool else x, cell)
        return self.classifier(x.mean(dim=(2, 3)))


@dataclass(frozen=True)
class TrainedSupernet:
    """A trained supernet with its cost: SGD steps and wall seconds of training."""

    model: SuperNet
    steps: int
    train_seconds: float


def build_supernet(data: ImageData, config: TrainConfig) -> SuperNet:
    """A supernet of the study's size for `data`'s images and classes (torch's global RNG initialises it)."""
    return SuperNet(
        in_channels=data.train.x.shape[1],
        num_classes=data.num_classes,
        stem_channels=config.stem_channels,
        num_stacks=config.num_stacks,
        cells_per_stack=config.cells_per_stack,
    )


def train_supernet(
    data: ImageData, config: TrainConfig, *, epochs: int, seed: int, device: torch.device
) -> TrainedSupernet:
    """Train a supernet of the study's size on all of `data.train` for `epochs`, one sampled cell per step.

    Initial weights, batch order and sampled cells follow `seed` alone (CPU generators).
    """
    init_seed, order_seed, cell_seed = (int(s) for s in np.random.SeedSequence(seed).generate_state(3))
    model = seeded(init_seed, lambda: build_supernet(data, config))
    model = model.to(device)
    generator = torch.Generator().manual_seed(order_seed)
    rng = np.random.default_rng(cell_seed)
    x_train, y_train = torch.from_numpy(data.train.x), torch.from_numpy(data.train.y)
    per_epoch = steps_per_epoch(len(data.train), config.batch_size)
    total = epochs * per_epoch
    optimiser, schedule = cosine_optimiser(model.parameters(), config, total)
    model.train()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(data.train), generator=generator)
        for s in range(0, len(order), config.batch_size):
            idx = order[s : s + config.batch_size]
            loss = nn.functional.cross_entropy(
                model(x_train[idx].to(device), random_cell(rng)), y_train[idx].to(device)
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    return TrainedSupernet(model, total, time.perf_counter() - start)


def score(model: SuperNet, cell: Cell, split: Split, device: torch.device, batch: int = 1000) -> float:
    """Accuracy in [0, 1] of `cell`'s sub-network on `split` with the shared weights."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(split), batch):
            logits = model(torch.from_numpy(split.x[s : s + batch]).to(device), cell)
            correct += int((logits.argmax(1).cpu().numpy() == split.y[s : s + batch]).sum())
    return correct / len(split)
