"""ASHA and asynchronous Hyperband/BOHB: promotions by closed-form rules, never twice, never waiting."""

import numpy as np
import pytest

from nasbench_sim.errors import ConfigError
from nasbench_sim.search.asha import ASHA, ASHAConfig, AsyncBOHB, AsyncBOHBConfig, AsyncHyperbandConfig, _Rung
from nasbench_sim.space.sampling import random_cell


def test_a_rung_hands_out_its_top_third_best_first_and_never_twice():
    rng = np.random.default_rng(0)
    rung = _Rung()
    cells = [random_cell(rng) for _ in range(7)]
    for cell, value in zip(cells, [0.5, 0.9, 0.1, 0.7, 0.3, 0.8, 0.2], strict=True):
        rung.add(cell, value)
    # 7 results, eta 3: the top 2 (0.9, 0.8) may go up, in that order, then nothing
    assert [rung.promote(3), rung.promote(3), rung.promote(3)] == [cells[1], cells[5], None]
    rung.add(random_cell(rng), 0.05)
    rung.add(random_cell(rng), 0.06)  # 9 results: the top 3 now includes 0.7
    assert rung.promote(3) == cells[3] and rung.promote(3) is None


def test_a_late_better_result_is_promoted_once_it_ranks_in_the_top_third():
    # Catches ranking the best unpromoted result among the unpromoted only (it must count the promoted ones).
    rng = np.random.default_rng(1)
    rung = _Rung()
    for value in (0.9, 0.1, 0.2):
        rung.add(random_cell(rng), value)
    assert rung.promote(3) is not None  # 0.9
    late = random_cell(rng)
    rung.add(late, 0.5)  # 4 results: top 1 is 0.9, already promoted; 0.5 ranks second
    assert rung.promote(3) is None
    for value in (0.05, 0.06):
        rung.add(random_cell(rng), value)  # 6 results: top 2 = 0.9 and 0.5
    assert rung.promote(3) == late


def test_asha_starts_every_cell_at_the_smallest_budget_and_promotes_as_soon_as_it_can():
    asha = ASHA(ASHAConfig(), np.random.default_rng(0))
    first = [asha.ask() for _ in range(2)]
    assert {q.epochs for q in first} == {4}
    for q, v in zip(first, (0.8, 0.9), strict=True):
        asha.tell(q, v)
    third = asha.ask()
    asha.tell(third, 0.1)
    promoted = asha.ask()  # 3 results at 4 epochs: the best (0.9) goes to 12
    assert promoted.epochs == 12 and promoted.cell == first[1].cell


def test_results_may_come_back_in_any_order():
    asha = ASHA(AsyncHyperbandConfig(), np.random.default_rng(2))
    queries = [asha.ask() for _ in range(40)]
    for k, q in reversed(list(enumerate(queries))):
        asha.tell(q, 0.5 + 0.01 * k)
    assert not asha.in_flight
    assert sum(r.size for bracket in asha.rungs for r in bracket) == 40


def test_async_hyperband_spreads_new_cells_over_brackets_by_hyperbands_counts():
    asha = ASHA(AsyncHyperbandConfig(), np.random.default_rng(3))
    epochs = [asha.ask().epochs for _ in range(4000)]  # nothing told: every ask starts a new cell
    shares = np.array([epochs.count(b) for b in (4, 12, 36, 108)]) / len(epochs)
    assert np.allclose(shares, np.array([27, 12, 6, 4]) / 49, atol=0.03)


def test_async_bohb_learns_from_its_results():
    searcher = AsyncBOHB(AsyncBOHBConfig(brackets=1, min_points=3, random_fraction=0.0), np.random.default_rng(4))
    for k in range(6):
        q = searcher.ask()
        searcher.tell(q, 0.5 + 0.01 * k)
    assert searcher.kde.propose() is not None


@pytest.mark.parametrize("brackets", [0, 5, 1.5, True])
def test_bad_bracket_counts_are_refused(brackets):
    with pytest.raises(ConfigError, match="brackets"):
        ASHAConfig(brackets=brackets)
