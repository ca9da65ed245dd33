"""The NAS-Bench-101 cell space: cells, the official hash, the enumerated space, sampling, encodings.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.space import Cell, random_cell, path_encoding
    >>> cell = random_cell(np.random.default_rng(0))
    >>> path_encoding([cell]).shape
    (1, 364)

The PyTorch network lives in `nasbench_sim.space.network` (imported on demand,
so importing the space does not import torch).
"""

from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.cell import (
    CONV1X1,
    CONV3X3,
    INPUT,
    MAX_EDGES,
    MAX_VERTICES,
    MAXPOOL3X3,
    OPS,
    OUTPUT,
    Cell,
)
from nasbench_sim.space.cellspace import NUM_CELLS, CellSpace
from nasbench_sim.space.encodings import (
    adjacency_onehot,
    categorical,
    cell_from_categorical,
    path_encoding,
    truncated_path,
)
from nasbench_sim.space.hashing import hash_module
from nasbench_sim.space.params import count_flops, count_parameters
from nasbench_sim.space.sampling import mutate, neighbours, random_cell, random_cells

__all__ = [
    "CONV1X1",
    "CONV3X3",
    "INPUT",
    "MAXPOOL3X3",
    "MAX_EDGES",
    "MAX_VERTICES",
    "NUM_CELLS",
    "OPS",
    "OUTPUT",
    "Cell",
    "CellSpace",
    "OutOfDomainError",
    "adjacency_onehot",
    "categorical",
    "cell_from_categorical",
    "count_flops",
    "count_parameters",
    "hash_module",
    "mutate",
    "neighbours",
    "path_encoding",
    "random_cell",
    "random_cells",
    "truncated_path",
]
