"""Drop-in replacement for code written against the official `nasbench` API.

Example:
    >>> from nasbench_sim.compat import api
    >>> nb = api.NASBench("surrogate")  # doctest: +ELLIPSIS
    nasbench_sim: ...
    >>> spec = api.ModelSpec([[0, 1], [0, 0]], ["input", "output"])
    >>> 0 < nb.query(spec)["test_accuracy"] < 1
    True
"""

from nasbench_sim.compat import api

__all__ = ["api"]
