"""Display tables of an analysed study: the `stats` tables as strings with units.

Every number carries its unit in its column header ((%), (s), (points), (x))
and an undefined statistic is written as text saying why, never `NaN`.

Example:
    >>> from nasbench_sim.activesel.tables import format_points
    >>> format_points(0.123), format_points(float("nan"), "no pairs")
    ('+0.12', 'n/a (no pairs)')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nasbench_sim.activesel.stats import MARGIN_PTS, QUERIES, Analysis


def format_points(value: float, why: str = "undefined") -> str:
    """A signed value in points with 2 decimals, or 'n/a (why)'."""
    return f"{value:+.2f}" if np.isfinite(value) else f"n/a ({why})"


def format_number(value: float, fmt: str, why: str = "undefined") -> str:
    """`value` in format `fmt`, or 'n/a (why)' when it is not finite."""
    return format(value, fmt) if np.isfinite(value) else f"n/a ({why})"


def regimes_display(table: pd.DataFrame) -> pd.DataFrame:
    """Per-regime table (`stats.regime_summary`) as strings with units."""
    rows = []
    for _, r in table.iterrows():
        if r["regime"] == "full":
            gap = "0 (the reference)"
            p = eq = cells = "n/a (the reference)"
        else:
            why = r["note"] or "undefined"
            low, high = format_points(r["ci_low_pts"], why), format_points(r["ci_high_pts"], why)
            gap = f"{format_points(r['gap_pts'], why)} [{low}, {high}]"
            p = format_number(r["tost_p"], ".2g", why)
            eq = "yes" if r["equivalent"] else ("no" if np.isfinite(r["tost_p"]) else f"n/a ({why})")
            cells = (
                f"{int(r['cells_equivalent'])} of {int(r['cells_tested'])}"
                if r["cells_tested"]
                else "n/a (needs >= 2 seeds)"
            )
        rows.append(
            {
                "regime": r["regime"],
                "training set (images)": f"{r['subset_size']:,.0f}",
                "SGD steps per run": f"{r['steps_per_run']:,.0f}",
                "SGD time per run (s)": f"{r['train_s_per_run']:.1f}",
                "validation time per run (s)": f"{r['validation_s_per_run']:.1f}",
                "reference models per seed (s)": f"{r['reference_s_per_seed']:.1f}",
                "cost of all cells per seed (min)": f"{r['cost_s_per_seed'] / 60:.1f}",
                "test accuracy (%)": f"{r['test_pct']:.2f}",
                "gap to full (points) [90% CI]": gap,
                "TOST p": p,
                f"equivalent (±{MARGIN_PTS} points)": eq,
                "cells equivalent": cells,
                "speed-up measured (x)": f"{r['speedup_measured']:.2f}",
                f"speed-up over {QUERIES} queries (x)": f"{r['speedup_amortised']:.2f}",
            }
        )
    return pd.DataFrame(rows)


def ranking_display(table: pd.DataFrame) -> pd.DataFrame:
    """Ranking table (`stats.ranking`) as strings with units."""
    rows = []
    for _, r in table.iterrows():
        why = r["note"] or "undefined"
        if np.isfinite(r["kendall_tau"]):
            sd = f" ± {r['kendall_tau_sd']:.2f}" if np.isfinite(r["kendall_tau_sd"]) else " (one pair: no SD)"
            tau = f"{r['kendall_tau']:.2f}{sd}"
        else:
            tau = f"n/a ({why})"
        k = int(r["top_k"])
        rows.append(
            {
                "regime": r["regime"],
                "score": r["score"],
                "Kendall tau vs independent full run": tau,
                "seed pairs": str(int(r["seed_pairs"])),
                f"top-{k} overlap (%)": f"{100 * r['top_k_overlap']:.0f}",
                "picked cell (per seed)": r["picks"],
                "pick's full-data accuracy (%)": f"{r['pick_full_pct']:.2f}",
                "regret (points)": f"{r['regret_pts']:.2f}",
                "note": r["note"] or "-",
            }
        )
    return pd.DataFrame(rows)


def cells_display(cells: pd.DataFrame) -> pd.DataFrame:
    """Rows = cells, columns = regimes: gap (points) [90% CI], '✓' where equivalent (`stats.cell_equivalence`)."""
    if cells.empty:
        return pd.DataFrame()
    out = {}
    for (index, name), group in cells.groupby(["cell_index", "cell"], sort=True):
        row = {"cell": name, "full-data accuracy (%)": f"{group['full_pct'].iloc[0]:.2f}"}
        for _, r in group.iterrows():
            if np.isfinite(r["ci_low_pts"]):
                mark = " ✓" if r["equivalent"] else ""
                text = f"{r['gap_pts']:+.2f} [{r['ci_low_pts']:+.2f}, {r['ci_high_pts']:+.2f}]{mark}"
            else:
                text = f"{r['gap_pts']:+.2f} (no CI: {r['note']})"
            row[f"{r['regime']} gap (points)"] = text
        out[index] = row
    return pd.DataFrame(list(out.values()))


def classes_display(classes: pd.DataFrame) -> pd.DataFrame:
    """(regime x class) accuracy table (`stats.class_accuracy`) as strings, one column per digit (%)."""
    table = classes.copy()
    table.columns = [f"digit {c} (%)" for c in table.columns]
    return table.map(lambda v: f"{v:.2f}").reset_index()


def budget_tables(analysis: Analysis) -> list[tuple[str, pd.DataFrame]]:
    """(title, display table) of one epoch budget, in report order."""
    e = f"({analysis.epochs} epoch(s))"
    return [
        (f"Regimes {e}", regimes_display(analysis.regimes)),
        (f"Ranking of cells {e}", ranking_display(analysis.ranking)),
        (
            f"Per cell: gap to full data {e}; ✓ = equivalent within ±{MARGIN_PTS} points",
            cells_display(analysis.cells),
        ),
        (f"Per-class test accuracy {e}", classes_display(analysis.classes)),
    ]


def data_tables(analysis: Analysis) -> dict[str, pd.DataFrame]:
    """The numeric tables of one epoch budget by CSV name stem (regimes, ranking, cells, class_accuracy)."""
    return {
        "regimes": analysis.regimes,
        "ranking": analysis.ranking,
        "cells": analysis.cells,
        "class_accuracy": analysis.classes.reset_index(),
    }
