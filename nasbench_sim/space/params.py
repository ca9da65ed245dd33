"""Closed-form costs of the NB101 network built from a cell: trainable parameters and FLOPs.

Mirrors `nasbench.lib.model_builder` (and `nasbench_sim.space.network`, which
the tests check it against) layer by layer, with one walk over the layers
weighted by either cost:

- `params`: conv weights have no bias, each batch norm has 2 parameters per
  channel, the classifier has a bias;
- `flops`: multiply-accumulates of one forward pass of one image (the FLOPs of
  most NAS papers): each conv's weights times its output pixels, the
  classifier's weights; batch norm, ReLU, pooling, the sums of the cell and the
  global average are not counted. The CIFAR-10 network at 32x32 has its stacks
  at 32x32, 16x16 and 8x8 (2x2 max pooling, rounded up, between stacks).

Example:
    >>> from nasbench_sim.space.params import count_flops, count_parameters
    >>> count_parameters([[0, 1], [0, 0]], ["input", "output"])
    882570
    >>> count_flops([[0, 1], [0, 0]], ["input", "output"])
    137761792
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


#: What the layers are counted by (see the module docstring).
COSTS = ("params", "flops")


def _conv_bn(cost: str, kernel: int, c_in: int, c_out: int, pixels: int) -> int:
    """A conv (no bias) + batch norm at `pixels` output pixels."""
    weights = kernel * kernel * c_in * c_out
    return weights + 2 * c_out if cost == "params" else weights * pixels


def _op_cost(cost: str, op: str, channels: int, pixels: int) -> int:
    """An interior op at a vertex with `channels` channels (max pooling costs nothing)."""
    if op == CONV3X3:
        return _conv_bn(cost, 3, channels, channels, pixels)
    if op == CONV1X1:
        return _conv_bn(cost, 1, channels, channels, pixels)
    return 0


def module_terms(
    rows: Sequence[Sequence[int]], c_in: int, c_out: int, cost: str = "params", pixels: int = 1
) -> tuple[int, list[list[int]]]:
    """The cost of one cell (module) mapping c_in to c_out channels, split into graph and op parts.

    Args:
        rows: (V, V) pruned adjacency.
        c_in, c_out: channels in and out.
        cost: one of `COSTS`.
        pixels: output pixels of the module (for `flops`).

    Returns:
        (base, op_terms): the module costs `base + sum(op_terms[t - 1][k_t])`,
        where k_t is the index in `OPS` of interior vertex t's op; `op_terms` is (V - 2, 3).
    """
    n = len(rows)
    channels = vertex_channels(c_in, c_out, rows)
    base = 0
    feeds_output = False
    for t in range(1, n - 1):
        if rows[0][t]:
            base += _conv_bn(cost, 1, c_in, channels[t], pixels)  # projection of the input
        feeds_output |= bool(rows[t][n - 1])
    if not feeds_output or rows[0][n - 1]:
        base += _conv_bn(cost, 1, c_in, c_out, pixels)  # input projected straight to the output
    return base, [[_op_cost(cost, op, channels[t], pixels) for op in OPS] for t in range(1, n - 1)]


def network_terms(
    matrix: Sequence[Sequence[int]],
    cost: str = "params",
    *,
    in_channels: int = 3,
    stem_channels: int = 128,
    num_stacks: int = 3,
    cells_per_stack: int = 3,
    num_classes: int = 10,
    image_size: int = 32,
) -> tuple[int, np.ndarray]:
    """The whole network's cost for a pruned graph, split into graph and op parts.

    Lets many labellings of one graph be counted at once (as when enumerating
    the space): the cost of `(matrix, ops)` is `base + op_terms[arange(V - 2), k].sum()`
    with k the interior ops' indices in `OPS`.

    Args:
        matrix: (V, V) pruned adjacency.
        cost: one of `COSTS`.
        image_size: input height and width in pixels (for `flops`).

    Returns:
        (base, op_terms): int, and (V - 2, 3) int64 cost added by each op at each interior vertex.

    Raises:
        ValueError: an unknown cost.
    """
    if cost not in COSTS:
        raise ValueError(f"unknown cost {cost!r} (choices: {', '.join(COSTS)})")
    rows = [[int(x) for x in row] for row in matrix]
    size = image_size
    base = _conv_bn(cost, 3, in_channels, stem_channels, size * size)
    op_terms = np.zeros((len(rows) - 2, len(OPS)), dtype=np.int64)
    c_in = channels = stem_channels
    for stack in range(num_stacks):
        if stack > 0:
            channels *= 2
            size = -(-size // 2)  # 2x2 max pooling with stride 2, rounded up
        for _ in range(cells_per_stack):
            module_base, module_ops = module_terms(rows, c_in, channels, cost, size * size)
            base += module_base
            op_terms += np.array(module_ops, dtype=np.int64).reshape(op_terms.shape)
            c_in = channels
    classifier = channels * num_classes + (num_classes if cost == "params" else 0)
    return base + classifier, op_terms


def parameter_terms(matrix: Sequence[Sequence[int]], **network: int) -> tuple[int, np.ndarray]:
    """`network_terms(matrix, "params", **network)`: trainable parameters in graph and op parts."""
    return network_terms(matrix, "params", **network)


def _total(matrix: Sequence[Sequence[int]], ops: Sequence[str], cost: str, network: dict[str, int]) -> int:
    base, op_terms = network_terms(matrix, cost, **network)
    return base + sum(_op_term(terms, op) for terms, op in zip(op_terms.tolist(), ops[1:-1], strict=True))


def count_parameters(matrix: Sequence[Sequence[int]], ops: Sequence[str], **network: int) -> int:
    """Trainable parameters of the whole network for a pruned cell.

    Defaults (`in_channels=3, stem_channels=128, num_stacks=3, cells_per_stack=3,
    num_classes=10`) are the CIFAR-10 network of NAS-Bench-101; the result then
    equals the dataset's `trainable_parameters`.

    Raises:
        OutOfDomainError: an interior op is not one of `OPS`.
    """
    return _total(matrix, ops, "params", network)


def count_flops(matrix: Sequence[Sequence[int]], ops: Sequence[str], **network: int) -> int:
    """FLOPs (multiply-accumulates) of one forward pass of one image through the network of a pruned cell.

    Takes the keywords of `network_terms` (default: the CIFAR-10 network at 32x32).

    Raises:
        OutOfDomainError: an interior op is not one of `OPS`.
    """
    return _total(matrix, ops, "flops", network)


def _op_term(terms: Sequence[int], op: str) -> int:
    """The entry of a vertex's (3,) op terms for `op`."""
    if op not in OP_INDEX:
        raise OutOfDomainError(f"unknown op {op!r} (choices: {', '.join(OPS)})")
    return int(terms[OP_INDEX[op]])
