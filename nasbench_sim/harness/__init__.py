"""The comparison harness: run loop, protocols, experiments, statistics, plots and reproductions.

Example:
    >>> from nasbench_sim.harness.protocol import protocol
    >>> protocol("naszilla").default_budget.queries
    150
"""
