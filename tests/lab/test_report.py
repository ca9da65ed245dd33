import math

import numpy as np
import pandas as pd
import pytest

from nasbench_sim.lab.report import REFERENCE, answer, confidence_interval, estimator_table

FULL = pd.DataFrame({0: [90.0, 92.0, 95.0, 99.0], 1: [90.5, 91.0, 96.0, 98.0]})


def _rows(label, scores, seconds, steps=10, fixed_seconds=0.0):
    return pd.DataFrame(
        [
            {
                "estimator": label,
                "seed": s,
                "cell_index": c,
                "score": scores[s][c],
                "steps": steps,
                "seconds": seconds,
                "fixed_steps": 0,
                "fixed_seconds": fixed_seconds,
            }
            for s in (0, 1)
            for c in range(4)
        ]
    )


def _table():
    rows = pd.concat(
        [
            _rows(REFERENCE, FULL / 100, seconds=100.0),
            _rows("perfect", FULL, seconds=10.0, fixed_seconds=1500.0),
            _rows("reversed", -FULL, seconds=1.0),
        ]
    )
    return estimator_table(rows, FULL, queries=150)


def test_costs_are_amortised_over_the_search():
    # Closed form: 10 s per query plus 1,500 s once over 150 queries is 20 s; full training's 100 s is 5x that.
    table = _table().set_index("estimator")
    assert table.loc["perfect", "amortised_seconds_per_query"] == pytest.approx(20.0)
    assert table.loc["perfect", "speedup_amortised"] == pytest.approx(5.0)
    assert table.loc[REFERENCE, "speedup_amortised"] == 1.0


def test_the_reference_comes_first_then_the_best_ranking():
    table = _table()
    assert list(table["estimator"]) == [REFERENCE, "perfect", "reversed"]
    assert table.iloc[1]["kendall_tau"] == 1.0 and table.iloc[2]["kendall_tau"] == -1.0


def test_the_answer_names_the_best_and_the_cheapest_near_the_ceiling():
    text = answer(_table())
    assert text.startswith("perfect ranks the 4 cells best among 2 estimators")
    assert "cheapest within 0.1 of the ceiling is perfect" in text


def test_a_t_interval_over_seeds_and_its_undefined_cases():
    mean, low, high = confidence_interval([0.5, 0.7])
    assert mean - low == pytest.approx(high - mean)
    assert mean == pytest.approx(0.6) and high - mean == pytest.approx(12.7062 * 0.1, rel=1e-4)
    assert math.isnan(confidence_interval([0.5])[1]) and math.isnan(confidence_interval([np.nan])[0])
