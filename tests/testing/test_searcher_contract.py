"""`check_searcher` catches each kind of broken searcher, each with its own one-line message."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from nasbench_sim.errors import ContractError
from nasbench_sim.search.base import Query, SearcherBase
from nasbench_sim.space import Cell
from nasbench_sim.space.sampling import mutate, random_cell
from nasbench_sim.testing import check_searcher


class Good(SearcherBase):
    """Mutates the best cell so far after 4 random ones."""

    def ask(self):
        if len(self.observed) < 4:
            return random_cell(self.rng)
        return mutate(self.observed.best(1)[0], self.rng)


class OutOfSpace(Good):
    def ask(self):
        if len(self.observed) == 3:  # 8 vertices: not an NB101 cell
            matrix = np.triu(np.ones((8, 8), dtype=int), 1)
            return Cell(matrix, ["input"] + ["conv3x3-bn-relu"] * 6 + ["output"])
        return super().ask()


class BudgetOverrun(Good):
    def ask(self):
        return Query(super().ask(), epochs=200)


class GlobalRNG(Good):
    def ask(self):
        np.random.random()
        return super().ask()


class TableAccess(Good):
    def ask(self):
        from nasbench_sim.bench import open_table

        open_table("surrogate", progress=False)
        return super().ask()


class Unpicklable(Good):
    def __init__(self, config, rng, *, device="auto"):
        super().__init__(config, rng, device=device)
        self.lock = threading.Lock()


class ResumeDrift(Good):
    def __setstate__(self, state):
        self.__dict__.update(state)
        self.rng = np.random.default_rng()  # fresh entropy: the restored run wanders off


class IgnoresSeed(Good):
    def __init__(self, config, rng, *, device="auto"):
        super().__init__(config, np.random.default_rng(0), device=device)


_SHARED: list = []


class SharedState(Good):
    """Keeps its observations in a class-level list: runs in one process leak into each other."""

    def ask(self):
        if len(_SHARED) < 4:
            return random_cell(self.rng)
        return mutate(max(_SHARED, key=lambda x: x[1])[0], self.rng)

    def tell(self, proposal, validation_accuracy):
        super().tell(proposal, validation_accuracy)
        _SHARED.append((proposal, validation_accuracy))


class Alternating(Good):
    """Assumes every ask is told before the next (fails once several proposals are in flight)."""

    def ask(self):
        if getattr(self, "waiting", False):
            raise RuntimeError("asked twice before a tell")
        self.waiting = True
        return super().ask()

    def tell(self, proposal, validation_accuracy):
        super().tell(proposal, validation_accuracy)
        self.waiting = False


class WaitsForever(Good):
    """Waits (None) for a result even when nothing is in flight."""

    def ask(self):
        return None if len(self.observed) == 2 else super().ask()


def test_a_correct_searcher_passes_every_rule():
    report = check_searcher(Good, queries=12)
    assert report == dict.fromkeys(report)


@pytest.mark.parametrize(
    ("broken", "rule", "words"),
    [
        (OutOfSpace, "valid_cells", "out-of-space"),
        (BudgetOverrun, "budget", "budget overrun"),
        (GlobalRNG, "global_rng", "hidden global RNG: drew from numpy.random"),
        (TableAccess, "no_table", "the searcher called"),
        (Unpicklable, "picklable", "non-picklable state"),
        (ResumeDrift, "resume", "resume drift"),
        (IgnoresSeed, "seeds_differ", "ignores its rng"),
        (SharedState, "lockstep", "shared state"),
        (Alternating, "parallel", "with 4 simulated workers"),
    ],
)
def test_each_broken_searcher_fails_its_rule_with_one_line(broken, rule, words):
    _SHARED.clear()
    report = check_searcher(broken, queries=12, raise_on_failure=False)
    assert report[rule] is not None and words in report[rule], report
    assert "\n" not in report[rule]
    with pytest.raises(ContractError, match=rf"^{broken.__name__.lower()}: "):
        _SHARED.clear()
        check_searcher(broken, queries=12)


def test_waiting_with_nothing_in_flight_breaks_the_contract():
    report = check_searcher(WaitsForever, queries=12, raise_on_failure=False)
    assert any(m and "returned None with no evaluation in flight" in m for m in report.values()), report
