import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nasbench_sim.harness.stats import _holm, paired_tests


def _final(values):
    rows = [{"algorithm": a, "seed": s, "test_error_pct": v} for a, col in values.items() for s, v in enumerate(col)]
    return pd.DataFrame(rows)


def test_holm_closed_form():
    # Step-down: sorted p (0.01, 0.02, 0.04) x (3, 2, 1) = (0.03, 0.04, 0.04), kept monotone.
    assert _holm(np.array([0.04, 0.01, 0.02])).tolist() == pytest.approx([0.04, 0.03, 0.04])
    assert _holm(np.array([0.5, 0.6])).tolist() == [1.0, 1.0]


def test_paired_tests_match_scipy_and_rank_by_seed():
    rng = np.random.default_rng(0)
    base = rng.normal(6.0, 0.3, 30)
    values = {"good": base - 0.2, "mid": base, "bad": base + 0.2 + rng.normal(0, 0.05, 30)}
    result = paired_tests(_final(values))
    assert result["best"] == "good" and result["seeds"] == 30
    assert result["mean_ranks"].to_dict() == {"good": 1.0, "mid": 2.0, "bad": 3.0}
    expected = stats.friedmanchisquare(values["good"], values["mid"], values["bad"]).pvalue
    assert result["friedman"]["p"] == pytest.approx(expected)
    row = result["pairwise"].set_index("algorithm").loc["bad"]
    assert row["wilcoxon_p"] == pytest.approx(stats.wilcoxon(values["bad"], values["good"]).pvalue)
    assert row["holm_p"] >= row["wilcoxon_p"]


def test_only_seeds_every_algorithm_ran_are_paired():
    final = _final({"a": [1.0, 2.0, 3.0], "b": [2.0, 3.0]})
    assert paired_tests(final)["seeds"] == 2
