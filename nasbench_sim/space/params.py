"""Closed-form trainable-parameter count of the NB101 network built from a cell.

Mirrors `nasbench.lib.model_builder` (and `nasbench_sim.space.network`, which
the tests check it against): conv weights have no bias, each batch norm has
2 parameters per channel, the classifier has a bias.

Example:
    >>> from nasbench_sim.space.params import count_parameters
    >>> count_parameters([[0, 1], [0, 0]], ["input", "output"])
    882570
"""

from __future__ import annotations

from collections.abc import Sequence

from nasbench_sim.space.cell import CONV1X1, CONV3X3


def vertex_channels(input_channels: int, output_channels: int, rows: Sequence[Sequence[int]]) -> list[int]:
    """Channels at each vertex, as the official `compute_vertex_channels`.

    The output's channels are split evenly (remainder to the first vertices)
    among the vertices feeding it; other interior vertices take the max of
    their successors.
    """
    n = len(rows)
    channels = [0] * n
    channels[0] = input_channels
    channels[n - 1] = output_channels
    if n == 2:
        return channels
    fan_in = sum(rows[v][n - 1] for v in range(1, n))
    interior, correction = divmod(output_channels, fan_in)
    for v in range(1, n - 1):
        if rows[v][n - 1]:
            channels[v] = interior + (1 if correction > 0 else 0)
            correction -= 1
    for v in range(n - 3, 0, -1):
        if not rows[v][n - 1]:
            for dst in range(v + 1, n - 1):
                if rows[v][dst]:
                    channels[v] = max(channels[v], channels[dst])
    return channels


def _conv_bn(kernel: int, c_in: int, c_out: int) -> int:
    return kernel * kernel * c_in * c_out + 2 * c_out


def module_parameters(rows: Sequence[Sequence[int]], ops: Sequence[str], c_in: int, c_out: int) -> int:
    """Trainable parameters of one cell (module) mapping c_in to c_out channels."""
    n = len(rows)
    channels = vertex_channels(c_in, c_out, rows)
    total = 0
    feeds_output = False
    for t in range(1, n - 1):
        if rows[0][t]:
            total += _conv_bn(1, c_in, channels[t])  # projection of the input
        if ops[t] == CONV3X3:
            total += _conv_bn(3, channels[t], channels[t])
        elif ops[t] == CONV1X1:
            total += _conv_bn(1, channels[t], channels[t])
        feeds_output |= bool(rows[t][n - 1])
    if not feeds_output or rows[0][n - 1]:
        total += _conv_bn(1, c_in, c_out)  # input projected straight to the output
    return total


def count_parameters(
    matrix: Sequence[Sequence[int]],
    ops: Sequence[str],
    *,
    in_channels: int = 3,
    stem_channels: int = 128,
    num_stacks: int = 3,
    cells_per_stack: int = 3,
    num_classes: int = 10,
) -> int:
    """Trainable parameters of the whole network for a pruned cell.

    Defaults are the CIFAR-10 network of NAS-Bench-101; the result then equals
    the dataset's `trainable_parameters`.
    """
    rows = [[int(x) for x in row] for row in matrix]
    total = _conv_bn(3, in_channels, stem_channels)
    c_in = channels = stem_channels
    for stack in range(num_stacks):
        if stack > 0:
            channels *= 2
        for _ in range(cells_per_stack):
            total += module_parameters(rows, ops, c_in, channels)
            c_in = channels
    return total + channels * num_classes + num_classes
