import random

import numpy as np
import pytest

from nasbench_sim.multiobjective.registry import MO_SEARCHERS
from nasbench_sim.space.sampling import random_cell
from nasbench_sim.testing import MO_RULES, check_multiobjective_searcher


@pytest.mark.parametrize("name", sorted(MO_SEARCHERS))
def test_every_registered_multiobjective_searcher_keeps_the_contract(name):
    # 60 queries pass every random start; NSGA-II needs 100 to replace its first population.
    report = check_multiobjective_searcher(name, queries=120 if name == "nsga2" else 60)
    assert set(report) == set(MO_RULES)
    assert {rule: failure for rule, failure in report.items() if failure} == {}


class _GlobalRandom:
    """Breaks `seeded`, `global_rng` and `resume`: draws its cells from the global numpy stream."""

    def __init__(self, rng):
        pass

    def ask(self):
        return random_cell(np.random.default_rng(np.random.randint(2**31)))

    def tell(self, cell, objectives):
        random.random()


class _Unpicklable:
    """Breaks `resume`: holds a generator (not picklable)."""

    def __init__(self, rng):
        self.rng = rng
        self.lock = (x for x in range(3))

    def ask(self):
        return random_cell(self.rng)

    def tell(self, cell, objectives):
        pass


class _TableReader:
    """Breaks `no_table`: opens a table when first told something."""

    def __init__(self, rng):
        self.rng = rng

    def ask(self):
        return random_cell(self.rng)

    def tell(self, cell, objectives):
        from nasbench_sim.bench import sources

        sources.open_table("surrogate", progress=False)


class _NotACell:
    def __init__(self, rng):
        pass

    def ask(self):
        return "a cell"

    def tell(self, cell, objectives):
        pass


@pytest.mark.parametrize(
    ("searcher", "broken"),
    [
        (_GlobalRandom, {"seeded", "global_rng", "resume"}),  # not reproducible, so not resumable either
        (_Unpicklable, {"resume"}),
        (_TableReader, {"no_table"}),
        (_NotACell, {"valid_cells"}),
    ],
)
def test_each_rule_catches_the_searcher_that_breaks_it(searcher, broken):
    report = check_multiobjective_searcher(searcher, queries=20)
    assert {rule for rule, failure in report.items() if failure} == broken
