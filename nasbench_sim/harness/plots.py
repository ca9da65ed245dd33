"""Figures and summary tables of an experiment folder, ready to paste into a report.

Writes, next to the runs: `regret_vs_queries`, `regret_vs_time`, `final_error`
(box plus points) and `critical_difference` (mean ranks over seeds), each as
`.png` and `.pdf`, and `summary.csv` / `summary.md` (table, protocol, optimum,
seeds, budget and the paired tests). Every algorithm has the same colour and
marker in every figure (from the searcher registry).

Example:
    >>> import tempfile
    >>> from nasbench_sim import compare
    >>> from nasbench_sim.harness.plots import plot_experiment
    >>> frame = compare(["rs", "re"], range(3), 10, table="surrogate", results=tempfile.mkdtemp(), progress=False)
    >>> sorted(p.name for p in plot_experiment(frame.attrs["folder"]))[:3]
    ['critical_difference.pdf', 'critical_difference.png', 'final_error.pdf']
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator

from nasbench_sim._io import atomic_write_bytes, atomic_write_figure
from nasbench_sim.bench.table import SINGLE_REPEAT_KINDS
from nasbench_sim.harness.stats import (
    dedup_breaches,
    final_runs,
    headline,
    paired,
    paired_tests,
    published_applies,
    summary_table,
    tests_markdown,
)
from nasbench_sim.harness.store import load_experiment
from nasbench_sim.harness.styles import label_of, style_of


def style(algorithm: str, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fixed colour and marker of an algorithm: as recorded in the experiment, else the registry's."""
    st = style_of(algorithm, meta)
    return {"color": st["color"], "marker": st["marker"]}


def _subtitle(meta: dict[str, Any], history: pd.DataFrame) -> str:
    table = meta.get("table", {})
    budget = meta.get("budget", {})
    budget_text = f"{budget['queries']} queries" if budget.get("queries") else f"{budget.get('seconds'):g} simulated s"
    counts = history.groupby("algorithm")["seed"].nunique()
    seeds = f"{counts.min()} seeds" if counts.min() == counts.max() else f"{counts.min()}-{counts.max()} seeds"
    protocol = (meta.get("protocol") or {}).get("name", "?")
    kind = table.get("kind", "?")
    text = f"NB101, {protocol} protocol, {seeds}, {budget_text}"
    if kind == "surrogate":
        text += "\nSURROGATE table (modelled, not real NB101 data)"
    elif kind == "partial":
        text += "\nreal partial table (repeat-0 test accuracy real; other fields modelled)"
    elif kind == "repeat0":
        text += "\nREAL repeat-0 world: signal = score = real repeat-0 test accuracy; no validation split"
    else:
        text += f"\n{table.get('label', kind)}"
    return text


def percent_axis(ax: Any, axis: str = "y") -> None:
    """Log axis with plain-number ticks (0.1, 0.2, 0.5, 1, 2 ...)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def _band(ax, x: np.ndarray, values: np.ndarray, algorithm: str, meta: dict[str, Any]) -> None:
    mean = np.nanmean(values, axis=0)
    count = np.sum(~np.isnan(values), axis=0)
    se = np.zeros_like(mean)  # no band where a single run is left (runs of a time budget differ in length)
    many = count > 1
    se[many] = np.nanstd(values[:, many], axis=0, ddof=1) / np.sqrt(count[many])
    st = style(algorithm, meta)
    marks = max(1, len(x) // 8)
    ax.plot(
        x, mean, color=st["color"], marker=st["marker"], markevery=marks, ms=5, label=label_of(algorithm, meta), lw=1.6
    )
    ax.fill_between(x, np.clip(mean - se, 1e-6, None), mean + se, color=st["color"], alpha=0.18, lw=0)


def save_plot(fig: Any, folder: Path, name: str) -> list[Path]:
    """Write `fig` as `<name>.png` and `<name>.pdf` in `folder` (atomically), close it; the paths."""
    paths = [folder / f"{name}.{ext}" for ext in ("png", "pdf")]
    for path in paths:
        atomic_write_figure(fig, path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return paths


def _not_monotone(history: pd.DataFrame) -> bool:
    """True if some run's incumbent got worse in mean test accuracy (a noisy incumbent)."""
    steps = history.sort_values(["algorithm", "seed", "query"]).groupby(["algorithm", "seed"])["test_regret"].diff()
    return bool((steps > 1e-12).any())


def clock_column(history: pd.DataFrame) -> str | None:
    """The history's time axis: `end_time` (simulated wall-clock) where recorded, else `cumulative_time`
    (histories written before workers were simulated); None without training times."""
    for column in ("end_time", "cumulative_time"):
        if column in history and np.isfinite(history[column].to_numpy(dtype=float)).any():
            return column
    return None


def regret_at(group: pd.DataFrame, grid: np.ndarray, column: str, regret: str = "test_regret") -> np.ndarray:
    """(seeds, len(grid)) regret of each run's incumbent at each time of `grid` (NaN before its first result).

    Args:
        group: histories of one algorithm (rows of a run in the order results came back).
        grid: (T,) times in seconds, ascending.
        column: the time column (see `clock_column`).
        regret: the regret column.
    """
    curves = []
    for _, run in group.groupby("seed"):
        pos = np.searchsorted(run[column].to_numpy(), grid, side="right") - 1
        curves.append(np.where(pos >= 0, run[regret].to_numpy()[np.clip(pos, 0, None)], np.nan))
    return np.asarray(curves)


def regret_figures(history: pd.DataFrame, meta: dict[str, Any], out: Path) -> list[Path]:
    """Mean test regret vs queries and vs simulated time (when the table has training times), ± 1 SE over seeds."""
    algorithms = list(dict.fromkeys(history["algorithm"]))
    note = (
        "\nnot monotone: the incumbent is chosen by a noisy validation signal, so a new incumbent can be worse"
        if _not_monotone(history)
        else ""
    )
    written = []
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for algorithm in algorithms:
        runs = history[history["algorithm"] == algorithm].pivot(index="seed", columns="query", values="test_regret")
        _band(ax, runs.columns.to_numpy(), 100 * runs.to_numpy(dtype=float), algorithm, meta)
    ax.set(yscale="log", xlabel="queries (architectures evaluated)", ylabel="test regret of the incumbent (%)")
    percent_axis(ax)
    ax.set_title("Mean test regret ± 1 SE — " + _subtitle(meta, history) + note, fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    written += save_plot(fig, out, "regret_vs_queries")
    if "end_time" in history and meta.get("workers") is None:  # runs written before end_time was recorded
        history = history.assign(end_time=history["end_time"].fillna(history["cumulative_time"]))
    column = clock_column(history)
    if column is None:
        return written  # a world without training times (the repeat-0 world): no time axis

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for algorithm in algorithms:
        group = history[history["algorithm"] == algorithm]
        ends = group.groupby("seed")[column].max()
        starts = group.groupby("seed")[column].min()
        grid = np.geomspace(max(starts.max(), 1.0), max(ends.min(), starts.max() * 1.01, 1.01), 100)
        _band(ax, grid, 100 * regret_at(group, grid, column), algorithm, meta)
    parallel = meta.get("workers") is not None
    xlabel = "simulated wall-clock (seconds)" if parallel else "simulated training time (seconds)"
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="test regret (%)")
    percent_axis(ax)
    ax.set_title("Mean test regret ± 1 SE vs simulated time — " + _subtitle(meta, history) + note, fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    written += save_plot(fig, out, "regret_vs_time")
    return written


def final_figure(final: pd.DataFrame, meta: dict[str, Any], history: pd.DataFrame, out: Path) -> list[Path]:
    """Final test error per run: a box per algorithm plus every run as a point (jittered)."""
    order = final.groupby("algorithm")["test_error_pct"].mean().sort_values().index.tolist()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    rng = np.random.default_rng(0)  # jitter only: no effect on any result
    for k, algorithm in enumerate(order):
        values = final.loc[final["algorithm"] == algorithm, "test_error_pct"].to_numpy()
        st = style(algorithm, meta)
        ax.boxplot(
            values,
            positions=[k],
            widths=0.5,
            showfliers=False,
            medianprops={"color": st["color"], "lw": 2},
            boxprops={"color": st["color"]},
            whiskerprops={"color": st["color"]},
            capprops={"color": st["color"]},
        )
        ax.scatter(k + rng.uniform(-0.18, 0.18, values.size), values, s=8, alpha=0.45, **st)
    ax.set_xticks(range(len(order)), [label_of(a, meta) for a in order], rotation=20, fontsize=8)
    ax.set(ylabel="final test error of the incumbent (%)")
    ax.set_title("Final test error per run — " + _subtitle(meta, history), fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return save_plot(fig, out, "final_error")


def nemenyi_distance(algorithms: int, seeds: int, alpha: float = 0.05) -> float:
    """Nemenyi critical distance of mean ranks: q_alpha * sqrt(k (k + 1) / (6 N)) (Demšar 2006).

    Example:
        >>> round(nemenyi_distance(4, 10), 3)  # Demšar's table: q_0.05 = 2.569 for k = 4
        1.483
    """
    from scipy.stats import studentized_range

    q = studentized_range.ppf(1 - alpha, algorithms, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(algorithms * (algorithms + 1) / (6 * seeds)))


def critical_difference_figure(final: pd.DataFrame, out: Path, meta: dict[str, Any] | None = None) -> list[Path]:
    """Critical-difference diagram over the full rank axis (1 to the number of algorithms).

    Markers are mean ranks over the seeds every algorithm ran; bars join algorithms that
    Holm-corrected pairwise Wilcoxon signed-rank tests do not tell apart at 5%
    (scikit-posthocs). The title gives the Nemenyi critical distance at 5% for reference.
    """
    import scikit_posthocs as sp

    table = paired(final)
    if table.shape[1] < 2 or len(table) < 2:
        return []
    ranks = table.rank(axis=1).mean()
    long = table.reset_index().melt(id_vars="seed", var_name="algorithm", value_name="error")
    with warnings.catch_warnings():  # a handful of seeds: scipy warns and the p-value is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        significance = sp.posthoc_wilcoxon(long, val_col="error", group_col="algorithm", p_adjust="holm")
    ranks.index = [label_of(a, meta) for a in ranks.index]
    significance.index = [label_of(a, meta) for a in significance.index]
    significance.columns = [label_of(a, meta) for a in significance.columns]
    count = len(ranks)
    distance = nemenyi_distance(count, len(table))
    fig, ax = plt.subplots(figsize=(7.2, 0.9 + 0.35 * count))
    colours = {label_of(a, meta): style(a, meta)["color"] for a in table.columns}
    sp.critical_difference_diagram(
        ranks,
        significance,
        ax=ax,
        color_palette=colours,
        label_fmt_left="{label} ({rank:.2f})  ",
        label_fmt_right="  ({rank:.2f}) {label}",
    )
    ax.set_xlim(1, count)
    ax.set_xticks(range(1, count + 1))
    ax.set_title(
        f"Mean rank over {len(table)} seeds (1 = lowest test error). Bars: not different by pairwise Wilcoxon "
        f"signed-rank tests, Holm-corrected, α = 0.05 (for reference, the Nemenyi critical distance at α = 0.05 is {distance:.2f})",
        fontsize=7,
        wrap=True,
    )
    return save_plot(fig, out, "critical_difference")


#: Number formats of the summary table's columns (others: 3 decimals).
COLUMN_FORMATS = {
    "runs": ".0f",
    "unique queries": ".1f",
    "path repeats/run": ".2f",
    "search s/query": ".4f",
    "simulated training h/run": ".1f",
    "search overhead s/run": ".2f",
}


def _reported(kind: str | None, optimum_pct: float) -> str:
    """The summary's line on what its numbers are, for a table kind."""
    if kind == "repeat0":
        return (
            "- reported: real repeat-0 test error of the incumbent (best by the same value, which the searcher saw); "
            f"regret against the best real repeat-0 test accuracy, {optimum_pct:.3f}%"
        )
    if kind in SINGLE_REPEAT_KINDS:
        return (
            "- reported: the world's one repeat's test error of the incumbent (best by the same value, which the "
            f"searcher saw); regret against that repeat's best test accuracy, {optimum_pct:.3f}%"
        )
    return (
        "- reported: mean-of-3 test error of the incumbent (best by the validation the searcher saw); "
        f"regret against the table's best mean-of-3 test accuracy, {optimum_pct:.3f}%"
    )


def summary_markdown(history: pd.DataFrame, meta: dict[str, Any]) -> str:
    """The answer in one sentence, what it was measured on, the summary table and the paired tests, as Markdown."""
    summary = summary_table(history, meta)
    final = final_runs(history)
    budget = meta.get("budget", {})
    proto = meta.get("protocol") or {}
    lines = [
        f"# {meta.get('experiment', 'experiment')}",
        "",
        f"**{headline(final, meta)}**",
        "",
        f"- table: {meta.get('table', {}).get('label')}",
        f"- protocol: {proto.get('name')} ({proto.get('description')}); query mode `{proto.get('mode')}`",
        f"- budget: {budget.get('queries') or budget.get('seconds')} {'queries' if budget.get('queries') else 'simulated seconds'}",
        f"- seeds: {history['seed'].min()}-{history['seed'].max()} ({history['seed'].nunique()} distinct); "
        f"noise realizations: {meta.get('realizations', 1)}",
        _reported(meta.get("table", {}).get("kind"), 100 * _optimum(history)),
    ]
    if published_applies(meta):
        lines.append(f"- published: {proto.get('published_source')}")
    elif proto.get("published"):
        lines.append(
            "- published values not shown: they apply to a real table (official or partial) at the published budget"
        )
    for name, n in dedup_breaches(history, meta).items():
        lines.append(
            f"- **warning**: {label_of(name, meta)} declares dedup='paths' but repeated a cell's op paths"
            f" {n} time(s) ({n / history.loc[history['algorithm'] == name, 'seed'].nunique():.2f} per run)"
        )
    formats = [COLUMN_FORMATS.get(c, ".3f") for c in summary.columns]
    lines += ["", summary.to_markdown(index=False, floatfmt=formats), "", tests_markdown(final, meta), ""]
    return "\n".join(lines)


def _optimum(history: pd.DataFrame) -> float:
    """The best mean test accuracy the regrets are measured against."""
    return float((history["incumbent_mean_test"] + history["test_regret"]).median())


def plot_experiment(folder: str | os.PathLike, out: str | os.PathLike | None = None) -> list[Path]:
    """Write the figures and summary tables of an experiment; returns the written paths."""
    folder = Path(folder)
    out = Path(out) if out is not None else folder
    out.mkdir(parents=True, exist_ok=True)
    history, meta = load_experiment(folder)
    final = final_runs(history)
    written = regret_figures(history, meta, out)
    written += final_figure(final, meta, history, out)
    written += critical_difference_figure(final, out, meta)
    csv_path, md_path = out / "summary.csv", out / "summary.md"
    atomic_write_bytes(csv_path, summary_table(history, meta).to_csv(index=False).encode())
    atomic_write_bytes(md_path, summary_markdown(history, meta).encode())
    return [*written, csv_path, md_path]


def summary(folder: str | os.PathLike) -> pd.DataFrame:
    """The summary table of an experiment folder (`stats.summary_table`); tests in `.attrs["tests"]`."""
    history, meta = load_experiment(folder)
    table = summary_table(history, meta)
    table.attrs["tests"] = paired_tests(final_runs(history))
    return table
