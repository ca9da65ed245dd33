"""Closed-form trainable-parameter count of the NB101 network built from a cell.

Mirrors `nasbench.lib.model_builder` (and `nasbench_sim.space.network`, which
the tests check it against): conv weights have no bias, each batch norm has
2 parameters per channel, the classifier has a bias.

Example:
    >>> from nasbench_sim.space.params import count_parameters
    >>> count_parameters([[0, 1], [0, 0]], ["input", "output"])
    882570
    >>> from nasbench_sim.space.params import parameter_terms
    >>> base, op_terms = parameter_terms([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # input -> x -> output
    >>> op_terms.shape, base + int(op_terms[0, 2]) == count_parameters(
    ...     [[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    ((1, 3), True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.cell import CONV1X1, CONV3X3, OP_INDEX, OPS


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


def _op_parameters(op: str, channels: int) -> int:
    """Parameters of an interior op at a vertex with `channels` channels (max pooling has none)."""
    if op == CONV3X3:
        return _conv_bn(3, channels, channels)
    if op == CONV1X1:
        return _conv_bn(1, channels, channels)
    return 0


def module_terms(rows: Sequence[Sequence[int]], c_in: int, c_out: int) -> tuple[int, list[list[int]]]:
    """Parameters of one cell (module) mapping c_in to c_out channels, split into graph and op parts.

    Returns:
        (base, op_terms): the module has `base + sum(op_terms[t - 1][k_t])`
        parameters, where k_t is the index in `OPS` of interior vertex t's op;
        `op_terms` is (V - 2, 3).
    """
    n = len(rows)
    channels = vertex_channels(c_in, c_out, rows)
    base = 0
    feeds_output = False
    for t in range(1, n - 1):
        if rows[0][t]:
            base += _conv_bn(1, c_in, channels[t])  # projection of the input
        feeds_output |= bool(rows[t][n - 1])
    if not feeds_output or rows[0][n - 1]:
        base += _conv_bn(1, c_in, c_out)  # input projected straight to the output
    return base, [[_op_parameters(op, channels[t]) for op in OPS] for t in range(1, n - 1)]


def parameter_terms(
    matrix: Sequence[Sequence[int]],
    *,
    in_channels: int = 3,
    stem_channels: int = 128,
    num_stacks: int = 3,
    cells_per_stack: int = 3,
    num_classes: int = 10,
) -> tuple[int, np.ndarray]:
    """Parameters of the whole network for a pruned graph, split into graph and op parts.

    Lets many labellings of one graph be counted at once (as when enumerating
    the space): `count_parameters(matrix, ops) == base + op_terms[arange(V - 2), k].sum()`
    with k the interior ops' indices in `OPS`.

    Returns:
        (base, op_terms): int, and (V - 2, 3) int64 parameters added by each op at each interior vertex.
    """
    rows = [[int(x) for x in row] for row in matrix]
    base = _conv_bn(3, in_channels, stem_channels)
    op_terms = np.zeros((len(rows) - 2, len(OPS)), dtype=np.int64)
    c_in = channels = stem_channels
    for stack in range(num_stacks):
        if stack > 0:
            channels *= 2
        for _ in range(cells_per_stack):
            module_base, module_ops = module_terms(rows, c_in, channels)
            base += module_base
            op_terms += np.array(module_ops, dtype=np.int64).reshape(op_terms.shape)
            c_in = channels
    return base + channels * num_classes + num_classes, op_terms


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

    Raises:
        OutOfDomainError: an interior op is not one of `OPS`.
    """
    base, op_terms = parameter_terms(
        matrix,
        in_channels=in_channels,
        stem_channels=stem_channels,
        num_stacks=num_stacks,
        cells_per_stack=cells_per_stack,
        num_classes=num_classes,
    )
    return base + sum(_op_parameters_of(terms, op) for terms, op in zip(op_terms.tolist(), ops[1:-1], strict=True))


def _op_parameters_of(terms: Sequence[int], op: str) -> int:
    """The entry of a vertex's (3,) op terms for `op`."""
    if op not in OP_INDEX:
        raise OutOfDomainError(f"unknown op {op!r} (choices: {', '.join(OPS)})")
    return int(terms[OP_INDEX[op]])
