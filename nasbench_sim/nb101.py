"""Constants of the NAS-Bench-101 release that every part of the package reads.

`EPOCHS` are the training budgets NB101 trained every cell at (separate runs,
ascending): the budget axis of the tables, the budgets a query may ask for and
the rungs of the multi-fidelity searchers.

Example:
    >>> from nasbench_sim.nb101 import EPOCHS
    >>> EPOCHS, EPOCHS[-1]
    ((4, 12, 36, 108), 108)
"""

from __future__ import annotations

#: NB101's training budgets in epochs, ascending; the last is the full budget.
EPOCHS: tuple[int, ...] = (4, 12, 36, 108)
