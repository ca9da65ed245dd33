"""Display tables: units in the headers, reasons instead of NaN."""

import numpy as np
import pandas as pd

from nasbench_sim.activesel.tables import cells_display, format_number, format_points, ranking_display, regimes_display


def test_display_helpers_write_reasons_instead_of_nan():
    assert format_points(float("nan"), "1 seed") == "n/a (1 seed)" and format_number(0.25, ".1f") == "0.2"
    regimes = pd.DataFrame(
        [
            {
                "regime": "active",
                "subset_size": 10.0,
                "steps_per_run": 2.0,
                "train_s_per_run": 1.0,
                "validation_s_per_run": 0.1,
                "reference_s_per_seed": 0.5,
                "cost_s_per_seed": 60.0,
                "test_pct": 90.0,
                "gap_pts": -1.0,
                "ci_low_pts": np.nan,
                "ci_high_pts": np.nan,
                "tost_p": np.nan,
                "equivalent": False,
                "pairs": 1,
                "cells_equivalent": 0,
                "cells_tested": 0,
                "speedup_measured": 1.5,
                "speedup_amortised": 1.9,
                "note": "needs >= 2 pairs, has 1",
            }
        ]
    )
    shown = regimes_display(regimes).to_string()
    assert "nan" not in shown.lower() and "n/a (needs >= 2 pairs, has 1)" in shown
    rank = pd.DataFrame(
        [
            {
                "regime": "active",
                "score": "TSE",
                "kendall_tau": np.nan,
                "kendall_tau_sd": np.nan,
                "seed_pairs": 0,
                "cross_seed": True,
                "top_k": 1,
                "top_k_overlap": 1.0,
                "picks": "a",
                "pick_full_pct": 99.0,
                "best_full_pct": 99.0,
                "regret_pts": 0.0,
                "note": "needs >= 2 cells",
            }
        ]
    )
    assert "n/a (needs >= 2 cells)" in ranking_display(rank).to_string()
    cells = pd.DataFrame(
        [
            {
                "cell_index": 0,
                "cell": "a",
                "regime": "active",
                "full_pct": 99.0,
                "gap_pts": 0.1,
                "ci_low_pts": np.nan,
                "ci_high_pts": np.nan,
                "equivalent": False,
                "note": "needs >= 2 pairs, has 1",
            }
        ]
    )
    assert "no CI: needs >= 2 pairs" in cells_display(cells).to_string()
