"""Agreement of an estimator's ranking of cells with independent full-training runs.

Kendall tau-b and Spearman's rho between the scores of seed a and the
full-data test accuracies of seed b, over ordered pairs a != b (with one seed,
the same-seed pair); the top-k overlap over the same pairs; the cell each seed
of the estimator would pick and its full-data accuracy. Shared by the
active-selection study (`stats.ranking`) and the performance-estimation lab.

Example:
    >>> import pandas as pd
    >>> from nasbench_sim.activesel.agreement import agreement
    >>> full = pd.DataFrame({0: [90.0, 95.0, 99.0], 1: [91.0, 94.0, 98.0]})
    >>> found = agreement(pd.DataFrame({0: [0.1, 0.2, 0.3], 1: [0.3, 0.2, 0.1]}), full)
    >>> found["kendall_tau"], found["tau_by_seed"], found["pick_full_pct"]
    (0.0, {0: 1.0, 1: -1.0}, 94.5)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats


def _kendall(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall tau-b; NaN (without a warning) for fewer than 2 values or a constant side."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.kendalltau(x, y).statistic)


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho; NaN (without a warning) for fewer than 2 values or a constant side."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def _top(values: np.ndarray, k: int) -> set[int]:
    return set(np.argsort(-values, kind="stable")[:k].tolist())


def _pairs(seeds: list[int]) -> list[tuple[int, int]]:
    """Ordered seed pairs (a, b), a != b; with one seed the same-seed pair."""
    return [(a, b) for a in seeds for b in seeds if a != b] or [(a, a) for a in seeds]


def top_k(cells: int) -> int:
    """k of the top-k overlap: 5, or half the cells if fewer than 10."""
    return 5 if cells >= 10 else max(1, cells // 2)


def agreement(scores: pd.DataFrame, full: pd.DataFrame) -> dict[str, Any]:
    """How well one estimator's scores predict independent full-data runs (see module docstring).

    Args:
        scores: (cells, seeds) scores, higher predicted better; reindexed to `full`'s cells and seeds.
        full: (cells, seeds) full-data test accuracy (%), index = cells, columns = seeds.

    Returns:
        kendall_tau and spearman (means over ordered seed pairs a != b of score seed a against full
        seed b), kendall_tau_sd, seed_pairs (finite ones), cross_seed, tau_by_seed (per score seed,
        its mean over b), top_k, top_k_overlap, picks (the best-scored cell's position per seed),
        pick_full_pct (their mean full accuracy over seeds, averaged), best_full_pct, regret_pts,
        tied (some seed's scores are all tied).
    """
    mean_full = full.mean(axis=1)
    seeds = list(full.columns)
    scores = scores.reindex(index=full.index, columns=seeds)
    pairs = _pairs(seeds)
    k = top_k(len(full))
    taus, rhos, overlaps = [], [], []
    by_seed: dict[Any, list[float]] = {}
    for a, b in pairs:
        x, y = scores[a].to_numpy(dtype=float), full[b].to_numpy(dtype=float)
        tau = _kendall(x, y)
        taus.append(tau)
        by_seed.setdefault(a, []).append(tau)
        rhos.append(_spearman(x, y))
        overlaps.append(len(_top(x, k) & _top(y, k)) / k)
    picks = [int(np.nanargmax(scores[a].to_numpy(dtype=float))) for a in seeds]
    pick_pct = float(np.mean([mean_full.iloc[p] for p in picks]))
    finite = [t for t in taus if np.isfinite(t)]
    finite_rho = [r for r in rhos if np.isfinite(r)]
    return {
        "kendall_tau": float(np.mean(finite)) if finite else float("nan"),
        "kendall_tau_sd": float(np.std(finite, ddof=1)) if len(finite) > 1 else float("nan"),
        "spearman": float(np.mean(finite_rho)) if finite_rho else float("nan"),
        "seed_pairs": len(finite),
        "cross_seed": bool(pairs) and pairs[0][0] != pairs[0][1],
        "tau_by_seed": {a: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for a, v in by_seed.items()},
        "top_k": k,
        "top_k_overlap": float(np.mean(overlaps)) if overlaps else float("nan"),
        "picks": picks,
        "pick_full_pct": pick_pct,
        "best_full_pct": float(mean_full.max()),
        "regret_pts": float(mean_full.max() - pick_pct),
        "tied": len(finite) < len(taus),
    }
