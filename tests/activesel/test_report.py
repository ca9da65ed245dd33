"""The report of the tiny study: files, no NaN, units, images that exist; display helpers."""

import json
import re

import numpy as np
import pandas as pd

from nasbench_sim.activesel.report import FIGURES, cells_display, format_points, ranking_display, regimes_display


def test_report_files_exist_and_html_opens_with_its_images(tiny_study):
    _, out = tiny_study
    for name in (*FIGURES, "report.md", "report.html", "summary.json", "regimes.csv", "ranking.csv", "cells_e2.csv"):
        assert (out / name).exists(), name
    page = (out / "report.html").read_text()
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    for src in re.findall(r'<img src="([^"]+)"', page):
        assert (out / src).exists(), src
    assert len(re.findall(r"<img ", page)) == len(FIGURES)


def test_no_nan_anywhere_in_the_documents(tiny_study):
    # The tiny study has undefined statistics (one control cell: no Kendall tau): they must read as text.
    _, out = tiny_study
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        assert not re.search(r"\bnan\b", text, flags=re.IGNORECASE), name
    assert "n/a (needs >= 2 cells)" in (out / "report.md").read_text()
    json.loads((out / "summary.json").read_text(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def test_every_table_header_has_a_unit_or_is_a_label(tiny_study):
    _, out = tiny_study
    md = (out / "report.md").read_text()
    labels = {
        "regime",
        "score",
        "cell",
        "note",
        "TOST p",
        "seed pairs",
        "cells equivalent",
        "SGD steps per run",
        "Kendall tau vs independent full run",
    }  # counts, names
    for line in md.splitlines():
        if line.startswith("| regime") or line.startswith("| cell"):
            for header in (h.strip() for h in line.strip("|").split("|")):
                assert header in labels or "(" in header, header  # units in parentheses: (%), (s), (points), (x)


def test_display_helpers_write_reasons_instead_of_nan():
    assert format_points(float("nan"), "1 seed") == "n/a (1 seed)"
    regimes = pd.DataFrame([{
        "regime": "active", "subset_size": 10.0, "steps_per_run": 2.0, "train_s_per_run": 1.0,
        "validation_s_per_run": 0.1, "reference_s_per_seed": 0.5, "cost_s_per_seed": 60.0, "test_pct": 90.0, "gap_pts": -1.0,
        "ci_low_pts": np.nan, "ci_high_pts": np.nan, "tost_p": np.nan, "equivalent": False, "pairs": 1,
        "cells_equivalent": 0, "cells_tested": 0, "speedup_measured": 1.5, "speedup_amortised": 1.9,
        "note": "needs >= 2 pairs, has 1",
    }])  # fmt: skip
    shown = regimes_display(regimes).to_string()
    assert "nan" not in shown.lower() and "n/a (needs >= 2 pairs, has 1)" in shown
    rank = pd.DataFrame([{
        "regime": "active", "score": "TSE", "kendall_tau": np.nan, "kendall_tau_sd": np.nan, "seed_pairs": 0,
        "cross_seed": True, "top_k": 1, "top_k_overlap": 1.0, "picks": "a", "pick_full_pct": 99.0,
        "best_full_pct": 99.0, "regret_pts": 0.0, "note": "needs >= 2 cells",
    }])  # fmt: skip
    assert "n/a (needs >= 2 cells)" in ranking_display(rank).to_string()
    cells = pd.DataFrame([{"cell_index": 0, "cell": "a", "regime": "active", "full_pct": 99.0, "gap_pts": 0.1,
                           "ci_low_pts": np.nan, "ci_high_pts": np.nan, "equivalent": False,
                           "note": "needs >= 2 pairs, has 1"}])  # fmt: skip
    assert "no CI: needs >= 2 pairs" in cells_display(cells).to_string()
