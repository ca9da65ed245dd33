"""The study in words and as JSON: the one-sentence answer, a verdict per regime, the JSON summary.

Sentences are computed from `stats.Analysis` tables (numbers with units,
never `NaN`: an undefined statistic is named with the reason). The answer
says whether training on the active subset ranks the cells as well as an
independent full-data run does, that is whether its cross-seed Kendall tau is
at least the full-vs-full ceiling minus the ceiling's SD over seed pairs, and
whether its test accuracy is equivalent to full data's (the TOST of `stats`).

Example:
    >>> from nasbench_sim.activesel.summary import ranking_matches_full
    >>> ranking_matches_full(tau=0.86, ceiling=0.87, ceiling_sd=0.02), ranking_matches_full(0.70, 0.87, 0.02)
    (True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.activesel.config import StudyConfig
from nasbench_sim.activesel.data import ImageData
from nasbench_sim.activesel.layout import StudyLayout
from nasbench_sim.activesel.stats import ALPHA, KNOWN_CELLS_TARGET_PCT, MARGIN_PTS, QUERIES, Analysis

#: The regime the study is about (the answer's subject when the study ran it).
ACTIVE = "active"


def _count(n: int, noun: str) -> str:
    """'1 cell', '2 cells'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def ranking_matches_full(tau: float, ceiling: float, ceiling_sd: float) -> bool:
    """Whether a cross-seed Kendall tau is at least the full-vs-full `ceiling` minus its SD (NaN SD: 0)."""
    return bool(tau >= ceiling - (ceiling_sd if np.isfinite(ceiling_sd) else 0.0))


def _equivalence(row: pd.Series) -> tuple[bool, str]:
    """(equivalent, clause) of a regime's pooled TOST row."""
    if row["pairs"] < 2:
        return False, f"the equivalence of its test accuracy is not testable ({row['note']})"
    shown = "is equivalent" if row["equivalent"] else "is not shown equivalent"
    return bool(row["equivalent"]), (
        f"its test accuracy {shown} to full data's within ±{MARGIN_PTS} points (mean gap {row['gap_pts']:+.2f} "
        f"points, 90% CI {row['ci_low_pts']:+.2f} to {row['ci_high_pts']:+.2f})"
    )


def _ranking(analysis: Analysis, regime: str, cells: int) -> tuple[bool | None, str]:
    """(ranks like full data, or None when undecidable; clause) of a regime's validation-accuracy ranking."""
    rank = analysis.ranking.set_index(["regime", "score"])
    tau = rank.loc[(regime, "validation accuracy")]
    ceiling = rank.loc[("full", "validation accuracy")]
    if not np.isfinite(tau["kendall_tau"]):
        return None, f"its ranking of the {cells} cells is undefined ({tau['note']})"
    if not tau["cross_seed"]:
        return (
            None,
            f"ranks the {cells} cells with same-seed Kendall tau {tau['kendall_tau']:.2f} (one seed: no ceiling)",
        )
    if not np.isfinite(ceiling["kendall_tau"]):
        return None, f"ranks the {cells} cells with cross-seed Kendall tau {tau['kendall_tau']:.2f} (no ceiling)"
    good = ranking_matches_full(tau["kendall_tau"], ceiling["kendall_tau"], ceiling["kendall_tau_sd"])
    how = "as well as" if good else "worse than"
    return good, (
        f"ranks {_count(cells, 'cell')} {how} an independent full-data run does (cross-seed Kendall tau "
        f"{tau['kendall_tau']:.2f}; full data vs full data {ceiling['kendall_tau']:.2f})"
    )


def answer(analyses: list[Analysis], regime: str = ACTIVE) -> str:
    """The study's answer in one sentence, from the results (see the module docstring).

    Args:
        analyses: `stats.analyse`'s budgets, the main one first.
        regime: the regime asked about; when the study did not run it, the first regime other than full.
    """
    main = analyses[0]
    table = main.regimes.set_index("regime")
    if regime not in table.index:
        others = [r for r in table.index if r != "full"]
        if not others:
            return f"The study trained on full data only ({_count(main.epochs, 'epoch')}), so no regime is compared with it."
        regime = others[0]
    row, full = table.loc[regime], table.loc["full"]
    cells = int(main.cells.loc[main.cells["regime"] == regime, "cell_index"].nunique())
    good, rank_clause = _ranking(main, regime, cells)
    equivalent, equivalence_clause = _equivalence(row)
    joint = "and" if good is None or good == equivalent else "but"
    text = (
        f"Training on the {regime} subset ({row['subset_size']:,.0f} of {full['subset_size']:,.0f} images) for "
        f"{_count(main.epochs, 'epoch')} {rank_clause} {joint} {equivalence_clause}, at a measured speed-up of "
        f"{row['speedup_measured']:.2f}x"
    )
    for control in analyses[1:]:
        rows = control.regimes.set_index("regime")
        if regime in rows.index:
            count = int(control.cells.loc[control.cells["regime"] == regime, "cell_index"].nunique())
            text += f"; with {_count(control.epochs, 'epoch')} ({_count(count, 'cell')}) {_equivalence(rows.loc[regime])[1]}"
    return text + "."


def verdict(analysis: Analysis, regime: str) -> str:
    """One sentence on a regime: equivalence, ranking, speed-up (numbers with units, no NaN)."""
    row = analysis.regimes.set_index("regime").loc[regime]
    rank = analysis.ranking.set_index(["regime", "score"])
    tau = rank.loc[(regime, "validation accuracy")]
    ceiling = rank.loc[("full", "validation accuracy")]
    if row["pairs"] < 2:
        equivalence = f"equivalence not testable ({row['note']})"
    else:
        shown = "equivalent to" if row["equivalent"] else "not shown equivalent to"
        equivalence = (
            f"{shown} full data within ±{MARGIN_PTS} points: mean gap {row['gap_pts']:+.2f} points "
            f"(90% CI {row['ci_low_pts']:+.2f} to {row['ci_high_pts']:+.2f}, TOST p = {row['tost_p']:.2g}, "
            f"{int(row['pairs'])} cell-seed pairs)"
        )
    cells = (
        f"per cell (paired over seeds) equivalent for {int(row['cells_equivalent'])} of {int(row['cells_tested'])} cells"
        if row["cells_tested"]
        else "per-cell tests need >= 2 seeds"
    )
    if np.isfinite(tau["kendall_tau"]):
        if not tau["cross_seed"]:
            ceiling_text = "no full-vs-full ceiling with one seed"
        elif np.isfinite(ceiling["kendall_tau"]):
            ceiling_text = f"full-vs-full ceiling {ceiling['kendall_tau']:.2f}"
        else:
            ceiling_text = f"full-vs-full ceiling undefined: {ceiling['note']}"
        kind = "cross-seed" if tau["cross_seed"] else "same-seed"
        ranking_text = f"{kind} Kendall tau {tau['kendall_tau']:.2f} ({ceiling_text})"
    else:
        ranking_text = f"Kendall tau undefined: {tau['note']}"
    return (
        f"{regime} ({analysis.epochs} epoch(s)): {equivalence}; {cells}; {ranking_text}; picks a cell with "
        f"{tau['pick_full_pct']:.2f}% full-data test accuracy (best {tau['best_full_pct']:.2f}%); speed-up "
        f"{row['speedup_measured']:.2f}x as measured, {row['speedup_amortised']:.2f}x amortised over {QUERIES} queries."
    )


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN becomes None, numpy scalars become Python ones."""
    clean = table.astype(object).where(pd.notna(table), None)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in clean.to_dict("records")]


def summary(analyses: list[Analysis], config: StudyConfig, runs: pd.DataFrame, references: pd.DataFrame) -> dict:
    """JSON-ready summary of the study (no NaN: undefined values are null with a note)."""
    main = analyses[0]
    known = main.known_full_pct
    reference_seconds = references["train_seconds"] + references["scoring_seconds"] + references["validation_seconds"]
    out: dict[str, Any] = {
        "answer": answer(analyses),
        "definitions": {
            "equivalence_margin_pts": MARGIN_PTS,
            "alpha": ALPHA,
            "search_queries": QUERIES,
            "known_cells_target_pct": KNOWN_CELLS_TARGET_PCT,
        },
        "known_cells": {
            "cells": list(config.known_cells),
            "mean_full_test_accuracy_pct": known if np.isfinite(known) else None,
            "target_met": bool(np.isfinite(known) and known >= KNOWN_CELLS_TARGET_PCT),
        },
        "runs": len(runs),
        "reference_models": len(references),
        "training_seconds_total": float(runs["train_seconds"].sum()),
        "wall_seconds_total": float(runs["wall_seconds"].sum() + reference_seconds.sum()),
        "budgets": [],
    }
    for analysis in analyses:
        out["budgets"].append(
            {
                "epochs": analysis.epochs,
                "verdicts": [verdict(analysis, r) for r in analysis.regimes["regime"] if r != "full"],
                "regimes": _records(analysis.regimes),
                "ranking": _records(analysis.ranking),
                "cells": _records(analysis.cells),
                "class_accuracy_pct": {r: [float(v) for v in row] for r, row in analysis.classes.iterrows()},
            }
        )
    return out


def selection_diagnostics(layout: StudyLayout, data: ImageData, seed: int = 0) -> dict[str, Any]:
    """How the first reference model sees the images each subset added to the random part (one seed).

    Returns:
        {'seed': seed, regime: {...}} for 'active' and 'random' where their added part exists:
        added_images, reference_misclassified_share (in [0, 1]) and
        mean_reference_label_probability (in [0, 1]).
    """
    out: dict[str, Any] = {"seed": seed}
    probs_file = layout.reference(seed, 0).with_suffix(".probs.npy")
    if not probs_file.exists():
        return out
    rest = np.setdiff1d(np.arange(len(data.train)), np.load(layout.subset(seed, "random-part")))
    rest_probs = np.load(probs_file)
    for regime in (ACTIVE, "random"):
        added_file = layout.subset(seed, regime, "added")
        if not added_file.exists():
            continue
        added = np.load(added_file)
        if len(added):
            p = rest_probs[np.searchsorted(rest, added)]
            y = data.train.y[added]
            out[regime] = {
                "added_images": len(added),
                "reference_misclassified_share": float((p.argmax(1) != y).mean()),
                "mean_reference_label_probability": float(p[np.arange(len(y)), y].mean()),
            }
    return out
