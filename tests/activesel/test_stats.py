"""Statistics on hand-made run tables with known answers."""

import numpy as np
import pytest
from scipy import stats as sps

from nasbench_sim.activesel.stats import (
    cell_equivalence,
    known_cells_accuracy,
    paired_tost,
    ranking,
    regime_summary,
    tost,
)

from .conftest import FULL, REFS, hand_runs


def test_tost_matches_the_90_percent_t_interval():
    d = np.array([0.1, -0.2, 0.05, 0.15, -0.05])
    result = tost(d, margin=0.5)
    half = sps.t.ppf(0.95, 4) * d.std(ddof=1) / np.sqrt(5)
    assert result.ci_low == pytest.approx(d.mean() - half) and result.ci_high == pytest.approx(d.mean() + half)
    # TOST p < 0.05 exactly when the 90% interval lies inside the margin.
    assert result.equivalent and result.p_value < 0.05
    p_low = sps.ttest_1samp(d, -0.5, alternative="greater").pvalue
    p_high = sps.ttest_1samp(d, 0.5, alternative="less").pvalue
    assert result.p_value == pytest.approx(max(p_low, p_high))


def test_tost_rejects_a_shifted_or_noisy_gap_and_explains_undefined_cases():
    assert not tost(np.array([-0.9, -0.8, -1.0, -0.85]), 0.5).equivalent  # clearly outside
    assert not tost(np.array([1.0, -1.0]), 0.5).equivalent  # centred but too noisy (df = 1)
    single = tost(np.array([0.1]), 0.5)
    assert not single.equivalent and single.note == "needs >= 2 pairs, has 1" and np.isnan(single.p_value)
    # Zero spread: the t test is undefined, so equivalence is not shown (a zero-variance TOST gave p = 0).
    flat = tost(np.array([0.2, 0.2, 0.2]), 0.5)
    assert not flat.equivalent and np.isnan(flat.p_value) and flat.ci_low == flat.ci_high == pytest.approx(0.2)
    assert "no spread" in flat.note


@pytest.mark.parametrize("level", [10.0, 0.0])
def test_two_failed_trainings_are_never_called_equivalent(level):
    # Catches `--lr inf` (every network at 10%) or broken labels (0%) printing "equivalent to full data".
    rng = np.random.default_rng(0)
    full = level + rng.normal(0, 0.01, 8)
    regime = level + rng.normal(0, 0.01, 8)
    test = paired_tost(regime, full, 0.5)
    assert not test.equivalent and "at chance" in test.note
    assert paired_tost(98 + rng.normal(0, 0.05, 8), 98 + rng.normal(0, 0.05, 8), 0.5).equivalent


def test_ranking_uses_independent_full_runs_and_the_ceiling_is_full_vs_full():
    reversed_ = [[0.96, 0.97, 0.98, 0.99], [0.959, 0.971, 0.979, 0.991]]
    table = ranking(hand_runs({"full": FULL, "active": reversed_, "random": FULL})).set_index(["regime", "score"])
    assert table.loc[("full", "validation accuracy"), "kendall_tau"] == pytest.approx(1.0)  # ceiling
    assert table.loc[("active", "validation accuracy"), "kendall_tau"] == pytest.approx(-1.0)
    assert table.loc[("random", "validation accuracy"), "seed_pairs"] == 2  # (0, 1) and (1, 0)
    # TSE = 1 - accuracy here, so ranking by lower TSE equals ranking by accuracy.
    assert table.loc[("random", "TSE"), "kendall_tau"] == pytest.approx(1.0)
    # active picks the worst cell c3 at both seeds: regret = best - c3's mean full accuracy.
    row = table.loc[("active", "validation accuracy")]
    assert row["picks"] == "c3, c3" and row["regret_pts"] == pytest.approx(100 * (0.9905 - 0.9595))
    assert row["top_k"] == 2 and row["top_k_overlap"] == 0.0


def test_one_seed_reports_the_same_seed_tau_with_a_note():
    table = ranking(hand_runs({"full": FULL[:1], "active": FULL[:1]})).set_index(["regime", "score"])
    row = table.loc[("active", "validation accuracy")]
    assert not row["cross_seed"] and "one seed" in row["note"] and row["kendall_tau"] == pytest.approx(1.0)


def test_equivalence_and_speedups_closed_form():
    # -0.1 points on average with a little spread over seeds (-0.12, -0.08): equivalent
    close = [[a - 0.001 + 0.0002 * (2 * j - 1) for a in s] for j, s in enumerate(FULL)]
    off = [[a - 0.02 + 0.004 * (i % 2) for i, a in enumerate(s)] for s in FULL]  # about -1.8 points
    runs = hand_runs({"full": FULL, "active": close, "random": off})
    table = regime_summary(runs, REFS).set_index("regime")
    assert table.loc["active", "equivalent"] and table.loc["active", "gap_pts"] == pytest.approx(-0.1)
    assert not table.loc["random", "equivalent"] and table.loc["random", "pairs"] == 8
    # Per seed: full 4 x (10 + 1) = 44 s; active 4 x (4 + 1) + reference 0 (train 3 + score 1) = 24 s.
    assert table.loc["active", "speedup_measured"] == pytest.approx(44 / 24)
    assert table.loc["random", "speedup_measured"] == pytest.approx(44 / 20)
    assert table.loc["active", "speedup_amortised"] == pytest.approx(150 * 11 / (4 + 150 * 5))
    cells = cell_equivalence(runs)
    assert cells[cells["regime"] == "active"]["equivalent"].all()


def test_el2n_pays_for_every_reference_model():
    runs = hand_runs({"full": FULL, "el2n": FULL})
    table = regime_summary(runs, REFS).set_index("regime")
    assert table.loc["el2n", "reference_s_per_seed"] == pytest.approx(2 * (3 + 1))


def test_known_cells_accuracy_is_the_mean_over_seeds_of_the_known_cells():
    runs = hand_runs({"full": FULL, "active": FULL}, known=1)
    assert known_cells_accuracy(runs) == pytest.approx(100 * (0.99 + 0.991) / 2)


def test_a_diverged_run_enters_no_statistic():
    # Catches a run with a non-finite loss (a failed training) counted like any other.
    from nasbench_sim.activesel.config import StudyConfig
    from nasbench_sim.activesel.stats import analyse

    runs = hand_runs({"full": FULL, "active": FULL})
    runs["diverged"] = False
    runs.loc[(runs["regime"] == "active") & (runs["cell_index"] == 0) & (runs["seed"] == 0), "diverged"] = True
    config = StudyConfig(regimes=("full", "active"), control_epochs=0, known_cells=("resnet-like",), random_cells=3)
    with pytest.warns(UserWarning, match="1 run\\(s\\) diverged"):
        (analysis,) = analyse(runs, REFS, config)
    row = analysis.regimes.set_index("regime").loc["active"]
    assert row["pairs"] == 7  # 8 pairs less the diverged one


def test_train_result_says_when_the_loss_was_not_finite():
    from nasbench_sim.activesel.train import TrainResult

    common = {"validation_accuracy": 0.1, "test_accuracy": 0.1, "class_test_accuracy": np.zeros(10), "steps": 2}
    common |= {"samples": 4, "train_seconds": 1.0, "validation_seconds": 0.1, "test_seconds": 0.1}
    assert TrainResult(step_losses=np.array([1.0, np.nan], dtype=np.float32), **common).diverged
    assert not TrainResult(step_losses=np.array([1.0, 0.5], dtype=np.float32), **common).diverged
