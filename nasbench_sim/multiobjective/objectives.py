"""The objectives of multi-objective NB101, per cell of the space, all to be minimised.

| name | what | unit |
| --- | --- | --- |
| `test_error` | 100 - mean final test accuracy at 108 epochs over the table's repeats | % |
| `test_error_repeat0` | 100 - repeat 0's final test accuracy at 108 epochs (real in the partial table) | % |
| `params` | trainable parameters of the CIFAR-10 network (exact) | count |
| `flops` | multiply-accumulates of one 32x32 image (exact, `space.params`) | count |
| `train_time` | mean final training time at 108 epochs over the table's repeats | s |

`objective_matrix(table, names)` gives them as an (N, m) float64 array in the
space's order (ascending official hash), NaN where the table has no value.

Example:
    >>> from nasbench_sim.bench import open_table
    >>> from nasbench_sim.multiobjective.objectives import objective_matrix
    >>> points = objective_matrix(open_table("surrogate", progress=False), ["test_error", "params"])
    >>> points.shape
    (423624, 2)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from nasbench_sim.bench.table import METRICS, POINTS, BenchmarkTable
from nasbench_sim.bench.table_rows import table_rows_in_space
from nasbench_sim.errors import ConfigError
from nasbench_sim.space.cellspace import CellSpace
from nasbench_sim.space.space_costs import space_flops

#: Objective name -> (what it is, unit); every objective is minimised.
OBJECTIVES: dict[str, tuple[str, str]] = {
    "test_error": ("100 - mean final test accuracy at 108 epochs over the repeats", "%"),
    "test_error_repeat0": ("100 - repeat 0's final test accuracy at 108 epochs", "%"),
    "params": ("trainable parameters of the CIFAR-10 network", "count"),
    "flops": ("multiply-accumulates of one 32x32 image", "count"),
    "train_time": ("mean final training time at 108 epochs over the repeats", "s"),
}
_FINAL = POINTS.index("final")


def check_objectives(names: Sequence[str]) -> list[str]:
    """The names as a list, each known and none twice.

    Raises:
        ConfigError: an unknown or repeated name, or fewer than two.
    """
    names = list(names)
    for name in names:
        if name not in OBJECTIVES:
            raise ConfigError(f"unknown objective {name!r} (choices: {', '.join(OBJECTIVES)})")
    if len(set(names)) != len(names) or len(names) < 2:
        raise ConfigError(f"objectives must be two or more different names, got {', '.join(names) or 'none'}")
    return names


def objective_matrix(table: BenchmarkTable, names: Sequence[str], space: CellSpace | None = None) -> np.ndarray:
    """(N, m) float64 objectives of every cell of the space, NaN where the table lacks the value.

    Args:
        table: a dense table, or a keyed one (its cells placed by hash; cells it lacks are NaN).
        names: objective names (see `OBJECTIVES`).
        space: the cell space (default: this machine's cached one).

    Raises:
        ConfigError: an unknown objective, or a table without 108-epoch data.
    """
    names = check_objectives(names)
    space = space if space is not None else CellSpace.load_or_build(progress=False)
    if 108 not in table.epochs:
        raise ConfigError(f"{table.label} has no 108-epoch data (budgets {list(table.epochs)})")
    final = np.asarray(table.data[:, :, table.epochs.index(108), _FINAL, :], dtype=np.float64)  # (rows, repeats, 4)
    if table.keyed:
        rows = table_rows_in_space(table, space)
    else:
        rows = np.arange(len(space))
    present = rows >= 0
    out = np.full((len(space), len(names)), np.nan)
    test = final[..., METRICS.index("test_accuracy")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell without any repeat: its mean is NaN
        columns = {
            "test_error": lambda: 100.0 * (1.0 - np.nanmean(test, axis=1)),
            "test_error_repeat0": lambda: 100.0 * (1.0 - test[:, 0]),
            "params": lambda: np.asarray(table.trainable_parameters, dtype=np.float64),
            "train_time": lambda: np.nanmean(final[..., METRICS.index("training_time")], axis=1),
        }
        for j, name in enumerate(names):
            if name == "flops":
                out[:, j] = space_flops(space).astype(np.float64)
            else:
                out[present, j] = columns[name]()[rows[present]]
    return out
