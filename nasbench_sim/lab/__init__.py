"""The performance-estimation lab: every cheap way to rank NB101 cells, against full training, on MNIST.

`run_lab(LabConfig(...))` runs an active-selection study underneath (its cells,
seeds, data and training; its full-data runs are the reference and its data
subsets are estimators), then the lab's own estimators (`config.ESTIMATORS`:
lower fidelity, early stopping, learning-curve extrapolation, weight
inheritance, one-shot weight sharing, zero-cost proxies) on the same cells and
seeds, and writes a report of Kendall tau against an independent full-training
run, the pick's accuracy and the cost of each (`report`). `nasbench-sim lab`
is the same from the command line.

Example:
    >>> from nasbench_sim.lab import LabConfig
    >>> LabConfig().study.num_cells, LabConfig().study.seeds
    (20, 2)
"""

from nasbench_sim.lab.config import ESTIMATORS, LabConfig

__all__ = ["ESTIMATORS", "LabConfig"]
