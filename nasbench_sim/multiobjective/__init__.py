"""Multi-objective NB101: objectives per cell, the exact Pareto front over the space, and its indicators.

Example:
    >>> from nasbench_sim.multiobjective import OBJECTIVES, exact_front
    >>> sorted(OBJECTIVES)
    ['flops', 'params', 'test_error', 'test_error_repeat0', 'train_time']
"""

from nasbench_sim.multiobjective.front import exact_front, hypervolume, igd, igd_plus, normalise
from nasbench_sim.multiobjective.objectives import OBJECTIVES, check_objectives, objective_matrix

__all__ = [
    "OBJECTIVES",
    "check_objectives",
    "exact_front",
    "hypervolume",
    "igd",
    "igd_plus",
    "normalise",
    "objective_matrix",
]
