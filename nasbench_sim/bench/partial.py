"""The real partial NB101 table: real repeat-0 test accuracies plus modelled fields (the recipe of `bench.modelled`).

Example:
    >>> import tempfile, numpy as np
    >>> from nasbench_sim.bench.partial import build_partial_table
    >>> from nasbench_sim.space import CellSpace
    >>> space = CellSpace.load_or_build(progress=False)
    >>> path = tempfile.mkdtemp() + "/repeat0.npy"  # stands in for ../shared/data/nb101/test108_repeat0.npy
    >>> np.save(path, np.full(len(space), 0.9))
    >>> table = build_partial_table(path, space, level=np.full(len(space), 0.9))
    >>> table.kind, table.epochs, float(table.data[0, 0, 0, 1, 2])
    ('partial', (108,), 0.8999999761581421)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim._io import file_sha256
from nasbench_sim.bench.budgets import BudgetModel
from nasbench_sim.bench.modelled import Provenance, build_modelled_table
from nasbench_sim.bench.noise import DEFAULT_NOISE, NoiseModel
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.errors import DataFormatError

PARTIAL_SEED = 101


def load_repeat0(path: str | os.PathLike, num_cells: int) -> np.ndarray:
    """Load and check `test108_repeat0.npy`: float[num_cells] in [0, 1], hash order.

    Raises:
        DataFormatError: missing, unreadable, wrong shape or values.
    """
    path = Path(path)
    try:
        values = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataFormatError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"{path}: not a readable .npy array ({exc})") from None
    if values.shape != (num_cells,) or values.dtype.kind != "f":
        raise DataFormatError(
            f"{path}: expected float[{num_cells}] (one accuracy per cell), got {values.dtype}{list(values.shape)}"
        )
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise DataFormatError(f"{path}: accuracies must be finite and in [0, 1]")
    return values


def build_partial_table(
    path: str | os.PathLike,
    space: Any,
    *,
    level: np.ndarray,
    noise: NoiseModel = DEFAULT_NOISE,
    realization: int = 0,
    budget_model: BudgetModel | None = None,
    budget_base: np.ndarray | None = None,
) -> BenchmarkTable:
    """Build one noise realization of the partial table from the repeat-0 array.

    Repeat 0's test accuracy at 108 epochs is the real value; every other field
    is drawn from the calibrated noise model (`nasbench_sim.bench.noise`), with
    each cell's true mean drawn from its posterior given the real value and the
    structural prior `level`.

    Args:
        path: `test108_repeat0.npy` (any path).
        space: the `CellSpace` (for parameter counts and structure).
        level: (423624,) structural prior of each cell's mean test accuracy (the
            embedded surrogate's predictions), in row order.
        noise: the noise model for the fields the array lacks.
        realization: which noise realization (each has its own seeded stream).
        budget_model: models the 4, 12 and 36-epoch budgets (None: the table has 108 epochs only).
        budget_base: the budget model's predictions of every cell if already computed (`budgets.predict_space`).

    Raises:
        DataFormatError: the array is missing or malformed (see `load_repeat0`).
        ConfigError: a negative realization.
    """
    values = load_repeat0(path, len(space))
    provenance = Provenance(
        kind="partial",
        seed=PARTIAL_SEED,
        origin={
            "source": f"real NB101 repeat-0 test accuracies ({Path(path).name})",
            "path": str(Path(path).resolve()),
            "source_sha256": file_sha256(path),
        },
        real_fields=("final test_accuracy of repeat 0 at 108 epochs",),
        modelled_fields=(
            "test_accuracy of repeats 1-2 (drawn around each cell's posterior mean)",
            "validation_accuracy",
            "train_accuracy",
            "training_time",
            "all halfway values",
        ),
    )
    return build_modelled_table(
        space,
        provenance,
        level=level,
        repeat0=values,
        noise=noise,
        realization=realization,
        budget_model=budget_model,
        budget_base=budget_base,
    )
