import json

import pytest

from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.reproduce import reproduce_bananas, retest_np_nas


def test_reproduce_writes_published_vs_measured(space, tmp_path):
    path = reproduce_bananas(seeds="0-2", algorithms=["rs", "ls"], table="surrogate", results=tmp_path, progress=False)
    text = path.read_text()
    assert "| Random search" in text and "6.341" in text and "Local search (restarts)" in text
    data = json.loads((path.parent / "reproduce.json").read_text())
    rows = {r["algorithm"]: r for r in data["rows"]}
    assert rows["Random search"]["runs"] == 3 and rows["Random search"]["published %"] == 6.341
    assert rows["Random search"]["difference"] == pytest.approx(rows["Random search"]["measured %"] - 6.341)
    assert data["queries"] == 150 and 5.0 < data["table_optimum_test_error_pct"] < 7.0


def test_reproduce_refuses_an_unknown_algorithm_and_lists_the_choices(tmp_path):
    # Other registered or plugin searchers may join the comparison (without a published number); a typo may not.
    with pytest.raises(ConfigError, match=r"unknown algorithm 'frob' \(choices: rs, re"):
        reproduce_bananas(algorithms=["frob"], results=tmp_path, progress=False)


def test_np_nas_retest_pairs_by_seed_and_runs_the_ablations(space, tmp_path):
    path = retest_np_nas(seeds="0-5", table="surrogate", results=tmp_path, progress=False, queries=20)
    data = json.loads((path.parent / "np_nas.json").read_text())
    comparisons = {row["comparison"] for row in data["tests"]}
    assert {"NP-NAS vs Regularized evolution", "NP-NAS vs BANANAS", "NP-NAS vs np-random-score"} <= comparisons
    assert all(row["seeds"] == 6 and 0 <= row["Holm-adjusted p"] <= 1 for row in data["tests"])
    # Seeds 0-5 span the table's 5 noise realizations: each difference carries its between-world spread.
    assert all(row["between-realization SD"] >= 0 for row in data["tests"])
