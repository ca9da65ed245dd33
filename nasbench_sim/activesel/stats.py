"""Statistics of the active-selection study: equivalence, ranking, cost.

All accuracies are in percent and gaps in percentage points ("points").
Definitions (fixed before any result was seen):

- **Equivalence** (TOST, two one-sided t-tests, `scipy.stats.ttest_1samp`) of
  a regime's test accuracy to full data at a margin of ±`MARGIN_PTS` = 0.5
  points and level `ALPHA` = 0.05, on paired differences (regime − full, same
  cell, same seed, same initialisation). Two tests: *per cell*, paired over
  seeds (n = seeds, so it needs >= 2 seeds and has little power with 2); and
  *per regime*, over all (cell, seed) pairs (n = cells x seeds). The per-regime
  test asks whether the gap of a typical candidate is within the margin; it
  treats pairs as independent although the cells of a seed share one subset,
  so read it next to the per-cell results. Equivalence is shown when the 90%
  confidence interval of the mean gap lies inside ±0.5 points (TOST p < 0.05).
- **Ranking**: Kendall tau-b between a regime's scores of the cells at seed a
  and the full-data test accuracies at seed b, averaged over ordered pairs
  a != b, so every row, including the full-data one, predicts an *independent*
  full-data run. The full-data validation-accuracy row is the noise ceiling:
  the agreement between two full-data runs that differ only in seed. Scores
  are validation accuracy (what a search sees) or the training-speed estimate
  (TSE, Ru et al. 2021: the sum over epochs of the mean minibatch training
  loss, lower is better) of the regime's own runs. With one seed, the same-seed
  tau is reported instead and the ceiling is undefined.
- **Top-k overlap**: |top-k by the regime's score ∩ top-k by full-data test
  accuracy| / k over the same seed pairs (k = 5, or half the cells if fewer
  than 10).
- **Pick**: the cell with the best regime score at each seed; its full-data test
  accuracy (mean over seeds) and the gap to the best cell's ("regret").
- **Cost** of a candidate: its SGD seconds plus its validation evaluation (what
  a search pays per query); a selection regime also pays its reference models'
  training and scoring once per seed. Speed-up as measured = full-data cost of
  the study's cells / the regime's cost including references; amortised over a
  `QUERIES` = 150-query search = 150 x full cost per candidate / (reference
  cost + 150 x the regime's cost per candidate).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.activesel.stats import tost
    >>> result = tost(np.array([0.1, -0.1, 0.0, 0.05]), margin=0.5)
    >>> bool(result.equivalent), round(result.mean, 3)
    (True, 0.013)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from nasbench_sim.activesel.agreement import agreement
from nasbench_sim.activesel.config import StudyConfig
from nasbench_sim.activesel.data import NUM_CLASSES
from nasbench_sim.activesel.selection import REGIMES

MARGIN_PTS = 0.5
ALPHA = 0.05
QUERIES = 150
#: Chance accuracy (%) of the datasets' classes, and how close to it a mean counts as failed training (points).
CHANCE_PCT = 100.0 / NUM_CLASSES
CHANCE_BAND_PTS = 5.0
#: Mean full-data test accuracy (percent) the known cells must reach for the study's setup to count as sound.
KNOWN_CELLS_TARGET_PCT = 98.5


@dataclass(frozen=True)
class Tost:
    """Result of a paired TOST equivalence test.

    Attributes:
        n: paired differences.
        mean: mean difference (points; NaN when n = 0).
        ci_low, ci_high: 90% confidence interval of the mean (points; NaN when undefined).
        p_value: TOST p-value, the larger of the two one-sided p-values (NaN when undefined).
        equivalent: the interval lies inside ±margin.
        note: why a value is undefined ('' when all are defined).
    """

    n: int
    mean: float
    ci_low: float
    ci_high: float
    p_value: float
    equivalent: bool
    note: str


def tost(diffs: np.ndarray, margin: float = MARGIN_PTS, alpha: float = ALPHA) -> Tost:
    """Two one-sided t-tests of |mean(diffs)| < margin.

    Args:
        diffs: (n,) paired differences in points.
        margin: equivalence margin in points.
        alpha: level of each one-sided test (the interval is the 1 - 2 alpha one).
    """
    d = np.asarray(diffs, dtype=np.float64)
    n = int(d.size)
    if n < 2:
        mean = float(d.mean()) if n else float("nan")
        return Tost(n, mean, float("nan"), float("nan"), float("nan"), False, f"needs >= 2 pairs, has {n}")
    mean = float(d.mean())
    if np.ptp(d) == 0:  # zero spread: the t statistic is undefined, so equivalence is not shown
        nan = float("nan")
        return Tost(n, mean, mean, mean, nan, False, "all pairs differ by the same amount: no spread to test")
    lower = stats.ttest_1samp(d, -margin, alternative="greater").pvalue
    upper = stats.ttest_1samp(d, margin, alternative="less").pvalue
    half = stats.t.ppf(1 - alpha, n - 1) * d.std(ddof=1) / np.sqrt(n)
    p = float(max(lower, upper))
    return Tost(n, mean, mean - half, mean + half, p, p < alpha, "")


def paired_tost(regime_pct: np.ndarray, full_pct: np.ndarray, margin: float = MARGIN_PTS) -> Tost:
    """`tost` of regime - full accuracies (points), refusing equivalence when both sides are at chance.

    Two failed trainings (every network at 10%, or at 0% on broken labels) agree perfectly and
    say nothing about the data regime.
    """
    test = tost(np.asarray(regime_pct) - np.asarray(full_pct), margin)
    if test.n and max(float(np.mean(regime_pct)), float(np.mean(full_pct))) <= CHANCE_PCT + CHANCE_BAND_PTS:
        note = f"both sides at chance accuracy (<= {CHANCE_PCT + CHANCE_BAND_PTS:.0f}%): training failed"
        return replace(test, p_value=float("nan"), equivalent=False, note=note)
    return test


def _paired(runs: pd.DataFrame, regime: str) -> pd.DataFrame:
    """Rows (cell_index, seed) with the regime's and full data's test accuracy (%)."""
    table = runs.pivot_table(index=["cell_index", "seed"], columns="regime", values="test_accuracy")
    return pd.DataFrame({"regime": 100 * table[regime], "full": 100 * table["full"]}).dropna()


def cell_equivalence(runs: pd.DataFrame, margin: float = MARGIN_PTS) -> pd.DataFrame:
    """Per (cell, regime other than full): accuracies and the per-cell TOST, paired over seeds.

    Args:
        runs: run records of one epoch budget.

    Returns:
        columns cell_index, cell, known, regime, seeds, full_pct, regime_pct, regime_sd_pct
        (SD over seeds, NaN with one seed), gap_pts, ci_low_pts, ci_high_pts, tost_p,
        equivalent, note.
    """
    names = runs.drop_duplicates("cell_index").set_index("cell_index")
    rows = []
    for regime in _regimes(runs):
        if regime == "full":
            continue
        paired = _paired(runs, regime)
        for cell_index, group in paired.groupby(level="cell_index"):
            test = paired_tost(group["regime"].to_numpy(), group["full"].to_numpy(), margin)
            rows.append(
                {
                    "cell_index": cell_index,
                    "cell": names.loc[cell_index, "cell"],
                    "known": bool(names.loc[cell_index, "known"]),
                    "regime": regime,
                    "seeds": test.n,
                    "full_pct": group["full"].mean(),
                    "regime_pct": group["regime"].mean(),
                    "regime_sd_pct": group["regime"].std(ddof=1) if len(group) > 1 else float("nan"),
                    "gap_pts": test.mean,
                    "ci_low_pts": test.ci_low,
                    "ci_high_pts": test.ci_high,
                    "tost_p": test.p_value,
                    "equivalent": test.equivalent,
                    "note": test.note,
                }
            )
    return pd.DataFrame(rows)


def _regimes(runs: pd.DataFrame) -> list[str]:
    present = set(runs["regime"])
    return [r for r in REGIMES if r in present]


def reference_cost(references: pd.DataFrame, regime: str, seed: int, *, steps: bool = False) -> float:
    """Seconds (training + scoring) a regime pays for its reference models at one seed; their SGD steps if `steps`."""
    needs = REGIMES[regime].references
    refs = references[references["seed"] == seed]
    if needs == 0 or refs.empty:
        return 0.0
    if needs == 1:
        refs = refs[refs["index"] == 0]
    if steps:
        return float(refs["steps"].sum())
    return float((refs["train_seconds"] + refs["scoring_seconds"]).sum())


def regime_summary(
    runs: pd.DataFrame, references: pd.DataFrame, margin: float = MARGIN_PTS, queries: int = QUERIES
) -> pd.DataFrame:
    """Per regime: size, compute, accuracy, pooled TOST over (cell, seed) pairs and speed-ups.

    Args:
        runs: run records of one epoch budget.
        references: reference-model records.

    Returns:
        columns regime, description, subset_size, steps_per_run, train_s_per_run,
        validation_s_per_run, reference_s_per_seed, cost_s_per_seed (the study's cells plus the
        references, SGD + validation seconds), test_pct, gap_pts, ci_low_pts, ci_high_pts,
        tost_p, equivalent, pairs, cells_equivalent, cells_tested, speedup_measured,
        speedup_amortised, note. Gap columns are NaN for 'full' (the reference).
    """
    runs = runs.assign(cost=runs["train_seconds"] + runs["validation_seconds"])
    full = runs[runs["regime"] == "full"]
    full_cost_per_seed = full.groupby("seed")["cost"].sum()
    full_cost_per_run = float(full["cost"].mean())
    per_cell = cell_equivalence(runs, margin)
    rows = []
    for regime in _regimes(runs):
        group = runs[runs["regime"] == regime]
        seeds = sorted(group["seed"].unique())
        ref_costs = [reference_cost(references, regime, s) for s in seeds]
        cost_per_seed = group.groupby("seed")["cost"].sum()
        measured = float(full_cost_per_seed.loc[seeds].sum() / (cost_per_seed.sum() + sum(ref_costs)))
        amortised = queries * full_cost_per_run / (float(np.mean(ref_costs)) + queries * float(group["cost"].mean()))
        row: dict[str, Any] = {
            "regime": regime,
            "description": REGIMES[regime].description,
            "subset_size": float(group["subset_size"].mean()),
            "steps_per_run": float(group["steps"].mean()),
            "train_s_per_run": float(group["train_seconds"].mean()),
            "validation_s_per_run": float(group["validation_seconds"].mean()),
            "reference_s_per_seed": float(np.mean(ref_costs)),
            "cost_s_per_seed": float((cost_per_seed.sum() + sum(ref_costs)) / len(seeds)),
            "test_pct": float(100 * group["test_accuracy"].mean()),
            "speedup_measured": measured,
            "speedup_amortised": amortised,
        }
        if regime == "full":
            nan = float("nan")
            row.update(
                gap_pts=nan,
                ci_low_pts=nan,
                ci_high_pts=nan,
                tost_p=nan,
                equivalent=False,
                pairs=0,
                cells_equivalent=0,
                cells_tested=0,
                note="the reference every other regime is compared with",
            )
        else:
            paired = _paired(runs, regime)
            test = paired_tost(paired["regime"].to_numpy(), paired["full"].to_numpy(), margin)
            mine = per_cell[per_cell["regime"] == regime] if len(per_cell) else per_cell
            row.update(
                gap_pts=test.mean,
                ci_low_pts=test.ci_low,
                ci_high_pts=test.ci_high,
                tost_p=test.p_value,
                equivalent=test.equivalent,
                pairs=test.n,
                cells_equivalent=int(mine["equivalent"].sum()) if len(mine) else 0,
                cells_tested=int((mine["seeds"] >= 2).sum()) if len(mine) else 0,
                note=test.note,
            )
        rows.append(row)
    return pd.DataFrame(rows)


def ranking(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (regime, score): agreement with independent full-data runs (see module docstring).

    Args:
        runs: run records of one epoch budget.

    Returns:
        columns regime, score ('validation accuracy' or 'TSE'), kendall_tau, kendall_tau_sd,
        seed_pairs, cross_seed (False: same-seed tau, one seed only), top_k, top_k_overlap,
        picks (cell per seed), pick_full_pct, best_full_pct, regret_pts, note.
    """
    full = runs[runs["regime"] == "full"].pivot(index="cell_index", columns="seed", values="test_accuracy") * 100
    names = runs.drop_duplicates("cell_index").set_index("cell_index")["cell"]
    rows = []
    for regime in _regimes(runs):
        group = runs[runs["regime"] == regime]
        for score, column, sign in (("validation accuracy", "validation_accuracy", 1.0), ("TSE", "tse", -1.0)):
            table = sign * group.pivot(index="cell_index", columns="seed", values=column).reindex(full.index)
            found = agreement(table, full)
            notes = []
            if len(full) < 2:
                notes.append("needs >= 2 cells")
            elif found["tied"]:
                notes.append("a seed's scores are all tied")
            if not found["cross_seed"]:
                notes.append("one seed: same-seed tau, which shares that seed's noise with the target")
            rows.append(
                {
                    "regime": regime,
                    "score": score,
                    "kendall_tau": found["kendall_tau"],
                    "kendall_tau_sd": found["kendall_tau_sd"],
                    "seed_pairs": found["seed_pairs"],
                    "cross_seed": found["cross_seed"],
                    "top_k": found["top_k"],
                    "top_k_overlap": found["top_k_overlap"],
                    "picks": ", ".join(names.loc[full.index[p]] for p in found["picks"]),
                    "pick_full_pct": found["pick_full_pct"],
                    "best_full_pct": found["best_full_pct"],
                    "regret_pts": found["regret_pts"],
                    "note": "; ".join(notes),
                }
            )
    return pd.DataFrame(rows)


def class_accuracy(runs: pd.DataFrame) -> pd.DataFrame:
    """(regime x class) mean test accuracy per class in percent, over cells and seeds."""
    per_class = pd.DataFrame(runs["class_test_accuracy"].tolist(), index=runs.index) * 100
    per_class["regime"] = runs["regime"]
    table = per_class.groupby("regime").mean()
    return table.reindex([r for r in _regimes(runs)])


def known_cells_accuracy(runs: pd.DataFrame) -> float:
    """Mean full-data test accuracy (%) of the known cells (mean over seeds, then cells); NaN if none."""
    known = runs[(runs["regime"] == "full") & runs["known"]]
    return float(100 * known.groupby("cell_index")["test_accuracy"].mean().mean()) if len(known) else float("nan")


@dataclass(frozen=True, kw_only=True)
class Analysis:
    """Tables of one epoch budget.

    Attributes:
        epochs: the budget's epochs per run.
        cells: `cell_equivalence`'s table (one row per cell and regime other than full).
        regimes: `regime_summary`'s table (one row per regime).
        ranking: `ranking`'s table (one row per regime and score).
        classes: `class_accuracy`'s (regime x class) table, percent.
        known_full_pct: `known_cells_accuracy`, percent (NaN without known cells).
    """

    epochs: int
    cells: pd.DataFrame
    regimes: pd.DataFrame
    ranking: pd.DataFrame
    classes: pd.DataFrame
    known_full_pct: float


def analyse(runs: pd.DataFrame, references: pd.DataFrame, config: StudyConfig) -> list[Analysis]:
    """One `Analysis` per epoch budget: the main study first, then the control (if run).

    Runs recorded as diverged are left out, with a warning.
    """
    budgets = [config.training.epochs] + ([config.control_epochs] if config.has_control else [])
    if "diverged" in runs:  # a run whose loss was not finite failed: it enters no statistic
        failed = runs["diverged"].fillna(False).astype(bool)
        if failed.any():
            warnings.warn(
                f"{int(failed.sum())} run(s) diverged (a non-finite training loss) and are left out of the statistics",
                stacklevel=2,
            )
        runs = runs[~failed]
    out = []
    for epochs in budgets:
        subset = runs[runs["epochs"] == epochs]
        if subset.empty or "full" not in set(subset["regime"]):
            continue
        out.append(
            Analysis(
                epochs=epochs,
                cells=cell_equivalence(subset),
                regimes=regime_summary(subset, references),
                ranking=ranking(subset),
                classes=class_accuracy(subset),
                known_full_pct=known_cells_accuracy(subset),
            )
        )
    return out
