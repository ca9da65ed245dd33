"""Weight inheritance: a child network starts from its trained parent's weights where shapes allow.

A child cell is one edit away from its parent (`space.sampling.neighbours`).
Their `NB101Network`s name their tensors alike (stem, cells by position,
vertex ops by vertex, projections by target vertex, classifier); every tensor
(weights, batch-norm statistics) whose name and shape the two share is copied,
the rest keeps the child's own initialisation. This is network morphism in its
simplest, function-agnostic form: nothing is widened or padded. Parents are
stored as `.npz` files of their state dict (`allow_pickle=False`).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.lab.inherit import parent_of
    >>> from nasbench_sim.space import Cell
    >>> cell = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> parent = parent_of(cell, np.random.default_rng(0))
    >>> parent != cell
    True
"""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn

from nasbench_sim._io import atomic_file
from nasbench_sim.errors import DataFormatError
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.sampling import neighbours


def parent_of(cell: Cell, rng: np.random.Generator) -> Cell:
    """A parent of `cell`: one of its one-edit neighbours, drawn uniformly."""
    options = neighbours(cell)
    return options[int(rng.integers(len(options)))]


def save_state(model: nn.Module, path: str | os.PathLike) -> None:
    """Write the model's state dict (every tensor, on the CPU) as an `.npz` file, atomically."""
    arrays = {name: tensor.detach().cpu().numpy() for name, tensor in model.state_dict().items()}
    with atomic_file(path) as handle:
        np.savez(handle, **arrays)


def load_state(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A state dict written by `save_state`.

    Raises:
        DataFormatError: the file is missing, damaged or holds objects.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"{path}: not a parent's weights file ({exc})") from None


def inherit(child: nn.Module, parent: dict[str, np.ndarray]) -> float:
    """Copy into `child` every tensor of `parent` with the same name and shape; the share of values copied.

    Returns:
        copied values / all values of the child's state dict, in [0, 1].
    """
    state = child.state_dict()
    copied = total = 0
    with torch.no_grad():
        for name, tensor in state.items():
            total += tensor.numel()
            source = parent.get(name)
            if source is not None and tuple(source.shape) == tuple(tensor.shape):
                tensor.copy_(torch.from_numpy(source))
                copied += tensor.numel()
    return copied / total if total else 0.0
