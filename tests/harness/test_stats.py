import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nasbench_sim.harness.stats import _holm, headline, paired_tests, published_applies


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


def test_headline_names_the_best_and_the_verdict():
    rng = np.random.default_rng(1)
    base = rng.normal(6.0, 0.3, 20)
    clear = _final({"good": base - 0.5, "mid": base, "bad": base + 0.5 + rng.normal(0, 0.05, 20)})
    text = headline(clear)
    assert text.startswith("good has the lowest mean test error") and "the 3 algorithms differ" in text
    assert text.count(".") >= 1 and text.endswith(".") and "\n" not in text
    swing = 0.1 * np.array([1, -1] * 10)  # b and c trade places every seed: equal mean ranks, Friedman p = 1
    tied = _final({"a": base, "b": base + swing, "c": base - swing})
    assert "the Friedman test finds no difference among the 3 (p = 1)" in headline(tied)


@pytest.mark.parametrize(
    ("kind", "budget", "applies"),
    [
        ("partial", {"queries": 150, "seconds": None}, True),
        ("official", {"queries": 150, "seconds": None}, True),
        ("surrogate", {"queries": 150, "seconds": None}, False),
        ("partial", {"queries": 40, "seconds": None}, False),
    ],
)
def test_published_values_apply_only_to_a_real_table_at_the_published_budget(kind, budget, applies):
    # Catches the summary filling "published" and "difference" on the modelled surrogate table.
    published_budget = {"queries": 150, "seconds": None}
    meta = {
        "table": {"kind": kind},
        "budget": budget,
        "protocol": {"published": {"rs": 6.3}, "published_budget": published_budget},
    }
    assert published_applies(meta) is applies


def test_the_critical_difference_axis_spans_every_rank(monkeypatch, tmp_path):
    # Catches a rank axis cropped to the observed ranks (1.5-3.5 of 1-4) that hides how far apart they are.
    from nasbench_sim.harness import plots

    seen = {}

    def keep(fig, folder, name):
        seen["xlim"], seen["title"] = fig.axes[0].get_xlim(), fig.axes[0].get_title()
        return []

    monkeypatch.setattr(plots, "save_plot", keep)
    rng = np.random.default_rng(2)
    base = rng.normal(6.0, 0.3, 10)
    plots.critical_difference_figure(_final({"a": base, "b": base + 0.1, "c": base + 0.2, "d": base + 0.3}), tmp_path)
    assert seen["xlim"] == (1.0, 4.0)
    assert "Wilcoxon" in seen["title"] and "Holm" in seen["title"] and "Nemenyi critical distance" in seen["title"]
