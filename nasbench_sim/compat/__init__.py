"""Drop-in replacement for code written against the official `nasbench` API.

Example:
    >>> from nasbench_sim.compat import api
    >>> nb = api.NASBench()  # doctest: +SKIP
    >>> spec = api.ModelSpec([[0, 1], [0, 0]], ["input", "output"])
    >>> nb.query(spec)["test_accuracy"]  # doctest: +SKIP
"""

from nasbench_sim.compat import api

__all__ = ["api"]
