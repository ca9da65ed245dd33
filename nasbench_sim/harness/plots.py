"""Regret plots and summary tables for an experiment folder.

Writes, next to the runs: `regret_vs_queries`, `regret_vs_time`,
`final_regret` (each `.png` and `.pdf`), `summary.csv` and `summary.md`.

Example:
    >>> from nasbench_sim.harness.plots import plot_experiment
    >>> plot_experiment("results/demo")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from nasbench_sim._io import atomic_write_bytes, atomic_write_figure
from nasbench_sim.harness.experiment import load_experiment

#: Okabe-Ito colour-blind-safe palette.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
NAMES = {
    "rs": "Random search",
    "re": "Regularized evolution",
    "ls": "Local search",
    "gp": "GP-BO",
    "np": "NP-NAS",
    "bananas": "BANANAS",
    "tpe": "TPE",
}


def _label(algorithm: str) -> str:
    return NAMES.get(algorithm, algorithm)


def _title(meta: dict[str, Any], what: str) -> str:
    table = meta.get("table", {})
    budget = meta.get("budget", {})
    budget_text = f"{budget['queries']} queries" if budget.get("queries") else f"{budget.get('seconds')} s"
    counts = meta.get("seeds_per_algorithm") or [len(meta.get("seeds", []))]
    seeds_text = (
        f"{min(counts)} seeds" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)} seeds per algorithm"
    )
    title = f"{what} — NB101, {seeds_text}, {budget_text}"
    if table.get("kind") == "surrogate":
        title += "\nSURROGATE table (modelled, not real NB101 data)"
    elif table.get("kind") == "partial":
        title += "\nreal partial table (repeat-0 test accuracy real; other fields modelled)"
    return title


def final_runs(history: pd.DataFrame) -> pd.DataFrame:
    """Last row of every run."""
    return history.sort_values("query").groupby(["algorithm", "seed"], as_index=False).tail(1)


def summary_table(history: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm: final test regret (mean, median, SE) and test error, in percent; mean rank.

    The rank compares algorithms within each seed on final test regret (1 = best).
    """
    final = final_runs(history)
    final = final.assign(regret_pct=100 * final["test_regret"], error_pct=100 * (1 - final["incumbent_mean_test"]))
    common = final.groupby("seed")["algorithm"].transform("nunique") == final["algorithm"].nunique()
    ranks = final[common].assign(rank=final[common].groupby("seed")["regret_pct"].rank(method="average"))
    rows = []
    for algorithm, group in final.groupby("algorithm", sort=False):
        n = len(group)
        rows.append(
            {
                "algorithm": _label(algorithm),
                "runs": n,
                "mean_test_regret_pct": group["regret_pct"].mean(),
                "se_test_regret_pct": group["regret_pct"].std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                "median_test_regret_pct": group["regret_pct"].median(),
                "mean_test_error_pct": group["error_pct"].mean(),
                "se_test_error_pct": group["error_pct"].std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                "mean_rank": ranks.loc[ranks["algorithm"] == algorithm, "rank"].mean(),
                "search_seconds_per_query": history.loc[history["algorithm"] == algorithm, "search_seconds"].mean(),
            }
        )
    return pd.DataFrame(rows).sort_values("mean_test_regret_pct").reset_index(drop=True)


def _band(ax, x, values: np.ndarray, color: str, label: str) -> None:
    mean = np.nanmean(values, axis=0)
    se = (
        np.nanstd(values, axis=0, ddof=1) / np.sqrt(np.sum(~np.isnan(values), axis=0))
        if values.shape[0] > 1
        else 0 * mean
    )
    ax.plot(x, mean, color=color, label=label, lw=1.8)
    ax.fill_between(x, np.clip(mean - se, 1e-6, None), mean + se, color=color, alpha=0.2, lw=0)


def _save(fig, folder: Path, name: str) -> list[Path]:
    paths = [folder / f"{name}.{ext}" for ext in ("png", "pdf")]
    for path in paths:
        atomic_write_figure(fig, path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return paths


def plot_experiment(folder: str | os.PathLike, out: str | os.PathLike | None = None) -> list[Path]:
    """Write the plots and summary tables of an experiment; returns the written paths."""
    folder = Path(folder)
    out = Path(out) if out is not None else folder
    out.mkdir(parents=True, exist_ok=True)
    history, meta = load_experiment(folder)
    meta = {**meta, "seeds_per_algorithm": history.groupby("algorithm")["seed"].nunique().tolist()}
    algorithms = list(dict.fromkeys(history["algorithm"]))
    colors = {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(algorithms)}
    written = []

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for algorithm in algorithms:
        runs = history[history["algorithm"] == algorithm].pivot(index="seed", columns="query", values="test_regret")
        _band(ax, runs.columns.to_numpy(), 100 * runs.to_numpy(dtype=float), colors[algorithm], _label(algorithm))
    ax.set(yscale="log", xlabel="queries (architectures evaluated)", ylabel="test regret of incumbent (%)")
    ax.set_title(_title(meta, "Mean test regret ± 1 SE"), fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    written += _save(fig, out, "regret_vs_queries")

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for algorithm in algorithms:
        group = history[history["algorithm"] == algorithm]
        ends = group.groupby("seed")["cumulative_time"].max()
        starts = group.groupby("seed")["cumulative_time"].min()
        grid = np.geomspace(max(starts.max(), 1.0), ends.min(), 100)
        curves = []
        for _, run in group.groupby("seed"):
            pos = np.searchsorted(run["cumulative_time"].to_numpy(), grid, side="right") - 1
            curves.append(np.where(pos >= 0, run["test_regret"].to_numpy()[np.clip(pos, 0, None)], np.nan))
        _band(ax, grid, 100 * np.asarray(curves), colors[algorithm], _label(algorithm))
    ax.set(
        xscale="log", yscale="log", xlabel="simulated training time (seconds)", ylabel="test regret of incumbent (%)"
    )
    ax.set_title(_title(meta, "Mean test regret ± 1 SE vs simulated time"), fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    written += _save(fig, out, "regret_vs_time")

    final = final_runs(history)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    data = [100 * final.loc[final["algorithm"] == a, "test_regret"].to_numpy() for a in algorithms]
    parts = ax.violinplot(data, showmedians=True)
    for body, algorithm in zip(parts["bodies"], algorithms, strict=True):
        body.set_facecolor(colors[algorithm])
        body.set_alpha(0.5)
    ax.set_xticks(range(1, len(algorithms) + 1), [_label(a) for a in algorithms], rotation=20, fontsize=8)
    ax.set(ylabel="final test regret (%)")
    ax.set_title(_title(meta, "Final test regret per run"), fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    written += _save(fig, out, "final_regret")

    summary = summary_table(history)
    csv_path, md_path = out / "summary.csv", out / "summary.md"
    atomic_write_bytes(csv_path, summary.to_csv(index=False).encode())
    header = f"{_title(meta, 'Final test regret')}\n\n".replace("\n", "  \n", 1)
    atomic_write_bytes(md_path, (header + summary.to_markdown(index=False, floatfmt=".3f") + "\n").encode())
    return [*written, csv_path, md_path]
