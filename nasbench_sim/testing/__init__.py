"""Contract checks for your own searchers and surrogates, shipped with the package.

Like `optuna.testing` or scikit-learn's `check_estimator`: a plugin's test file
is one call per searcher.

Example:
    >>> from nasbench_sim.testing import check_searcher
    >>> report = check_searcher("re", queries=8)
    >>> [rule for rule, failure in report.items() if failure]
    []
"""

from nasbench_sim.testing.multiobjective_contract import MO_RULES, check_multiobjective_searcher
from nasbench_sim.testing.searcher_contract import RULES, check_searcher
from nasbench_sim.testing.surrogate_contract import check_surrogate
from nasbench_sim.testing.synthetic import SyntheticOracle

__all__ = [
    "MO_RULES",
    "RULES",
    "SyntheticOracle",
    "check_multiobjective_searcher",
    "check_searcher",
    "check_surrogate",
]
