"""The fully real repeat-0 world: every query answers the real repeat-0 test accuracy, nothing is modelled.

A one-repeat, one-budget (108 epochs) dense table built from `test108_repeat0.npy`:
the final test accuracy is the real value, and the final validation accuracy is
the same value, so a searcher's signal and its score are both the real repeat-0
test accuracy (there is no validation split). Training accuracy, training time
and every halfway value are NaN: this world has no simulated clock, so it takes
query budgets only.

Example:
    >>> import tempfile, numpy as np
    >>> from nasbench_sim.bench.repeat0_world import build_repeat0_table
    >>> from nasbench_sim.space import CellSpace
    >>> space = CellSpace.load_or_build(progress=False)
    >>> path = tempfile.mkdtemp() + "/repeat0.npy"  # stands in for ../shared/data/nb101/test108_repeat0.npy
    >>> np.save(path, np.linspace(0.1, 0.95, len(space)))
    >>> table = build_repeat0_table(path, space)
    >>> table.kind, table.data.shape, bool(np.isnan(table.data[0, 0, 0, 1, 3]))
    ('repeat0', (423624, 1, 1, 2, 4), True)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim._io import file_sha256
from nasbench_sim.bench.partial import load_repeat0
from nasbench_sim.bench.table import METRICS, POINTS, BenchmarkTable
from nasbench_sim.space.cellspace import CellSpace

#: What every printout of this world says about its signal.
SIGNAL = "signal = score = real repeat-0 test accuracy; no validation split"


def build_repeat0_table(path: str | os.PathLike, space: CellSpace) -> BenchmarkTable:
    """The repeat-0 world of `test108_repeat0.npy` (see the module docstring).

    Raises:
        DataFormatError: the array is missing or malformed (`partial.load_repeat0`).
    """
    meta = {
        "kind": "repeat0",
        "source": f"real NB101 repeat-0 test accuracies ({Path(path).name})",
        "source_path": str(Path(path).resolve()),
        "source_sha256": file_sha256(path),
        "signal": SIGNAL,
        "real_fields": ["final test_accuracy of repeat 0 at 108 epochs (also returned as validation_accuracy)"],
        "modelled_fields": [],
    }
    return single_repeat_world(load_repeat0(path, len(space)), space, meta)


def single_repeat_world(values: np.ndarray, space: CellSpace, meta: dict[str, Any]) -> BenchmarkTable:
    """A world in which every query answers `values` (N,) as signal and score: one repeat, 108 epochs.

    With a partial table's modelled repeat k (`table.data[:, k, -1, 1, 2]`) this is one of the
    modelled single-repeat worlds that `benchmarks/exchangeability.py` sets beside the real one
    (kind `modelled-repeat`).
    """
    data = np.full((len(space), 1, 1, len(POINTS), len(METRICS)), np.nan, dtype=np.float32)
    final = POINTS.index("final")
    data[:, 0, 0, final, METRICS.index("test_accuracy")] = values
    data[:, 0, 0, final, METRICS.index("validation_accuracy")] = values
    meta = {
        "epochs": [108],
        "absent_fields": ["train_accuracy", "training_time", "all halfway values", "other repeats", "4/12/36 epochs"],
        **meta,
    }
    return BenchmarkTable(data, np.asarray(space.trainable_parameters, dtype=np.int64), meta)
