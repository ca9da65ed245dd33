import numpy as np
import pandas as pd

from nasbench_sim.activesel.agreement import agreement, top_k

FULL = pd.DataFrame({0: [90.0, 92.0, 95.0, 99.0], 1: [90.5, 91.0, 96.0, 98.0]})


def test_a_perfect_ranking_has_tau_one_and_picks_the_best_cell():
    found = agreement(FULL / 100, FULL)
    assert found["kendall_tau"] == 1.0 and found["spearman"] == 1.0
    assert found["picks"] == [3, 3] and found["regret_pts"] == 0.0
    assert found["cross_seed"] and found["seed_pairs"] == 2


def test_a_reversed_ranking_has_tau_minus_one_and_the_worst_pick():
    found = agreement(-FULL, FULL)
    assert found["kendall_tau"] == -1.0
    assert found["pick_full_pct"] == 90.25 and found["regret_pts"] == 98.5 - 90.25


def test_scores_are_set_against_the_other_seed_not_their_own():
    # Seed 0's scores copy full seed 0 exactly; against full seed 1 (cells 0 and 1 swap) tau is 4/6.
    scores = pd.DataFrame({0: FULL[0], 1: FULL[1]})
    swapped = FULL.copy()
    swapped[1] = [91.0, 90.5, 96.0, 98.0]
    found = agreement(scores, swapped)
    assert np.isclose(found["tau_by_seed"][0], 4 / 6)


def test_constant_scores_give_an_undefined_tau_not_a_warning():
    found = agreement(pd.DataFrame({0: [1.0] * 4, 1: [1.0] * 4}), FULL)
    assert np.isnan(found["kendall_tau"]) and found["tied"]


def test_top_k_is_five_or_half_the_cells():
    assert top_k(20) == 5 and top_k(6) == 3 and top_k(1) == 1
