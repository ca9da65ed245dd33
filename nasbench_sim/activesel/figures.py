"""Figures of an active-selection study, each drawn from the study folder and its analysis.

`FIGURES` is the list of the report's figures (file name, caption, how to draw
it), in report order; every regime is drawn in its `Regime.colour`. Each
`*_figure` function returns a matplotlib figure (None when it has nothing to
draw); `save_figure` writes and closes it.

Example:
    >>> from nasbench_sim.activesel.figures import FIGURES
    >>> FIGURES[0].file, FIGURES[1].caption
    ('accuracy.png', 'Kendall tau per regime with the full-vs-full ceiling')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim._io import atomic_write_figure
from nasbench_sim.activesel.data import ImageData
from nasbench_sim.activesel.layout import StudyLayout, load_losses
from nasbench_sim.activesel.selection import REGIMES
from nasbench_sim.activesel.stats import MARGIN_PTS, Analysis

#: Label of the ranking figure's y axis; the second line is added when the axis is zoomed in from -1..1.
TAU_AXIS_LABEL = "Kendall tau with full-data test accuracy"
TAU_ZOOM_NOTE = "axis zoomed to the data, not -1..1"
#: Widest y range of the ranking figure: just past -1..1, so a marker at ±1 shows whole.
TAU_BOUND = 1.05


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no screen needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def colour(regime: str) -> str:
    """The regime's colour in every figure (grey for a name outside `REGIMES`)."""
    return REGIMES[regime].colour if regime in REGIMES else "grey"


def save_figure(fig: Any, path: Path) -> None:
    """Write `fig` as a PNG (atomically) and close it."""
    atomic_write_figure(fig, path, dpi=110, bbox_inches="tight")
    pyplot().close(fig)


def accuracy_figure(analysis: Analysis, runs: pd.DataFrame) -> Any:
    """Regime vs full accuracy per cell (± SD over seeds) and the paired gaps with 90% CIs."""
    plt = pyplot()
    runs = runs[runs["epochs"] == analysis.epochs]
    stats_ = runs.groupby(["regime", "cell_index"])["test_accuracy"].agg(["mean", "std"]) * 100
    regimes = [r for r in analysis.regimes["regime"] if r != "full"]
    full = stats_.loc["full"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2))
    for regime in regimes:
        mine = stats_.loc[regime].reindex(full.index)
        left.errorbar(
            full["mean"],
            mine["mean"],
            xerr=full["std"].fillna(0),
            yerr=mine["std"].fillna(0),
            fmt="o",
            ms=4,
            capsize=2,
            color=colour(regime),
            label=regime,
            alpha=0.85,
        )
    lo = float(stats_["mean"].min()) - 0.3
    hi = float(stats_["mean"].max()) + 0.3
    left.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
    band = ([lo - MARGIN_PTS, hi - MARGIN_PTS], [lo + MARGIN_PTS, hi + MARGIN_PTS])
    left.fill_between([lo, hi], *band, color="grey", alpha=0.15, label=f"±{MARGIN_PTS} points")
    left.set(
        xlabel="full-data test accuracy (%)",
        ylabel="test accuracy under the regime (%)",
        title=f"Per cell, mean ± SD over seeds ({analysis.epochs} epoch(s))",
    )
    left.grid(alpha=0.3)

    cells = analysis.cells
    order = cells.drop_duplicates("cell_index").sort_values("full_pct")["cell_index"].tolist()
    names = cells.drop_duplicates("cell_index").set_index("cell_index")["cell"]
    width = 0.8 / max(1, len(regimes))
    for j, regime in enumerate(regimes):
        mine = cells[cells["regime"] == regime].set_index("cell_index").reindex(order)
        y = np.arange(len(order)) + (j - (len(regimes) - 1) / 2) * width
        low = (mine["gap_pts"] - mine["ci_low_pts"]).fillna(0).clip(lower=0)
        high = (mine["ci_high_pts"] - mine["gap_pts"]).fillna(0).clip(lower=0)
        right.errorbar(mine["gap_pts"], y, xerr=[low, high], fmt="o", ms=3, capsize=2, color=colour(regime))
    right.axvspan(-MARGIN_PTS, MARGIN_PTS, color="grey", alpha=0.15)
    right.axvline(0, color="k", lw=0.8)
    right.set_yticks(np.arange(len(order)), [names[i] for i in order], fontsize=7)
    right.set(
        xlabel="test accuracy gap to full data (points), mean and 90% CI over seeds",
        title="Paired gap per cell (cells sorted by full-data accuracy)",
    )
    right.grid(alpha=0.3, axis="x")
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def tau_axis_limits(ranking: pd.DataFrame) -> tuple[float, float]:
    """y range of the ranking figure: every tau ± its SD (and so the ceiling), padded, within ±`TAU_BOUND`.

    Args:
        ranking: `stats.ranking`'s table.

    Returns:
        (low, high); ±`TAU_BOUND` when no tau is defined.
    """
    tau = ranking["kendall_tau"].to_numpy(dtype=float)
    sd = np.nan_to_num(ranking["kendall_tau_sd"].to_numpy(dtype=float))
    values = np.concatenate([tau - sd, tau + sd])
    values = values[np.isfinite(values)]
    if not values.size:
        return -TAU_BOUND, TAU_BOUND
    low, high = float(values.min()), float(values.max())
    pad = max(0.1 * (high - low), 0.02)
    return max(-TAU_BOUND, low - pad), min(TAU_BOUND, high + pad)


def ranking_figure(analysis: Analysis) -> Any:
    """Kendall tau per regime and score (mean ± SD over seed pairs) with the full-vs-full ceiling, axis zoomed."""
    plt = pyplot()
    from matplotlib.lines import Line2D

    table = analysis.ranking
    regimes = list(dict.fromkeys(table["regime"]))
    cross_seed = bool(table["cross_seed"].iloc[0])
    low, high = tau_axis_limits(table)
    fig, ax = plt.subplots(figsize=(9, 4.4))
    x = np.arange(len(regimes))
    handles = []
    for offset, score, marker in ((-0.15, "validation accuracy", "o"), (0.15, "TSE", "s")):
        rows = table[table["score"] == score].set_index("regime").reindex(regimes)
        for xi, regime, tau, sd in zip(x + offset, regimes, rows["kendall_tau"], rows["kendall_tau_sd"], strict=True):
            if not np.isfinite(tau):
                ax.text(xi, low + 0.02 * (high - low), "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
                continue
            ax.errorbar(xi, tau, yerr=sd if np.isfinite(sd) else 0, fmt=marker, ms=6, capsize=3, color=colour(regime))
            ax.annotate(f"{tau:.2f}", (xi, tau), xytext=(5, 0), textcoords="offset points", fontsize=7, va="center")
        handles.append(Line2D([], [], color="#555555", marker=marker, ls="", label=f"score: {score}"))
    ceiling = table.set_index(["regime", "score"]).loc[("full", "validation accuracy"), "kendall_tau"]
    if np.isfinite(ceiling) and cross_seed:
        line = ax.axhline(ceiling, color="k", ls="--", lw=1)
        line.set_label(f"ceiling: full vs full across seeds ({ceiling:.2f})")
        handles.append(line)
    if low < 0 < high:
        ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(x, regimes, rotation=20)
    kind = "cross-seed" if cross_seed else "same-seed (one seed)"
    zoomed = low > -1.0 or high < 1.0
    ax.set(
        ylabel=f"{TAU_AXIS_LABEL}\n({TAU_ZOOM_NOTE})" if zoomed else TAU_AXIS_LABEL,
        ylim=(low, high),
        title=f"Ranking of cells vs an independent full-data run ({kind}, mean ± SD; {analysis.epochs} epoch(s))",
    )
    ax.legend(handles=handles, fontsize=8, loc="best")
    ax.grid(alpha=0.3, axis="y")
    return fig


def learning_curves_figure(layout: StudyLayout, runs: pd.DataFrame, epochs: int) -> Any:
    """Mean minibatch training loss (moving average) against SGD steps, per regime."""
    plt = pyplot()
    from matplotlib.ticker import FuncFormatter

    runs = runs[runs["epochs"] == epochs]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for regime in [r for r in REGIMES if r in set(runs["regime"])]:
        curves = [load_losses(layout.root, r) for _, r in runs[runs["regime"] == regime].iterrows()]
        length = min(len(c) for c in curves)
        mean = np.mean([c[:length] for c in curves], axis=0)
        window = max(1, length // 40)
        smooth = np.convolve(mean, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window, length + 1), smooth, color=colour(regime), label=f"{regime} ({length} steps)")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set(
        xlabel="SGD step",
        ylabel="minibatch cross-entropy (nats, moving average)",
        title=f"Training loss per regime, mean over cells and seeds ({epochs} epoch(s))",
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig


def class_accuracy_figure(analysis: Analysis) -> Any:
    """Full-data accuracy per class (bars) and each regime's per-class gap (heatmap, points)."""
    plt = pyplot()
    classes = analysis.classes
    full = classes.loc["full"]
    others = classes.drop(index="full")
    if others.empty:  # a study of full data alone has no gaps to show
        others = classes.loc[["full"]]
    gaps = others - full
    rows = max(1, len(others))
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 2.6 + 0.45 * rows), gridspec_kw={"height_ratios": [1, rows * 0.45]}
    )
    top.bar(np.arange(len(full)), full.to_numpy(), color="#555555")
    top.set(
        ylabel="full data (%)",
        title=f"Per-class test accuracy, mean over cells and seeds ({analysis.epochs} epoch(s))",
        ylim=(max(0.0, float(full.min()) - 2), 100),
    )
    top.set_xticks(np.arange(len(full)), [str(c) for c in full.index])
    limit = max(0.5, float(np.abs(gaps.to_numpy()).max())) if len(gaps) else 1.0
    image = bottom.imshow(gaps.to_numpy(), cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    for (i, j), value in np.ndenumerate(gaps.to_numpy()):
        bottom.text(j, i, f"{value:+.1f}", ha="center", va="center", fontsize=7)
    bottom.set_xticks(np.arange(gaps.shape[1]), [f"digit {c}" for c in gaps.columns], fontsize=8)
    bottom.set_yticks(np.arange(len(gaps)), gaps.index)
    fig.colorbar(image, ax=bottom, label="gap to full data (points)", fraction=0.03)
    fig.tight_layout()
    return fig


def _sample_panel(
    fig: Any, grid: Any, row: int, title: str, data: ImageData, indices: np.ndarray, probs: dict[int, np.ndarray]
) -> None:
    """A title row then two rows of 8 images, starting at grid row `row`."""
    head = fig.add_subplot(grid[row, :])
    head.axis("off")
    head.text(0, 0, title, fontsize=10, fontweight="bold", va="bottom", transform=head.transAxes)
    for k in range(16):
        ax = fig.add_subplot(grid[row + 1 + k // 8, k % 8])
        ax.axis("off")
        if k >= len(indices):
            continue
        i = int(indices[k])
        ax.imshow(data.train.x[i, 0], cmap="gray_r")
        label = int(data.train.y[i])
        p = probs.get(i)
        if p is None:
            ax.set_title(f"label {label}", fontsize=7)
        else:
            guess = int(p.argmax())
            wrong = "#B00020" if guess != label else "black"
            ax.set_title(f"label {label}\nref: {guess} ({100 * p[guess]:.0f}%)", fontsize=7, color=wrong)


def picked_samples_figure(layout: StudyLayout, data: ImageData, seed: int = 0) -> Any:
    """Image grid of active picks (highest L1, and a random draw of them) vs random picks of one seed."""
    plt = pyplot()
    base = np.load(layout.subset(seed, "random-part"))
    rest = np.setdiff1d(np.arange(len(data.train)), base)
    ref = layout.reference(seed, 0).with_suffix(".probs.npy")
    rest_probs = np.load(ref) if ref.exists() else None

    def probs_of(indices: np.ndarray) -> dict[int, np.ndarray]:
        if rest_probs is None:
            return {}
        return {int(i): rest_probs[np.searchsorted(rest, i)] for i in indices}

    panels = []
    display_rng = np.random.default_rng(seed)  # which picks to show; fixed so the figure is reproducible
    for regime, how in (("active", "top"), ("active", "sample"), ("random", "sample")):
        added_file = layout.subset(seed, regime, "added")
        if not added_file.exists():
            continue
        added = np.load(added_file)
        if how == "top":
            shown = added[:16]
            label = f"{regime}: the 16 highest L1 scores (most surprising to the reference)"
        else:
            shown = np.sort(display_rng.choice(added, size=min(16, len(added)), replace=False))
            label = f"{regime}: 16 random samples of its {len(added):,} added images"
        panels.append((label, shown))
    if not panels:
        return None
    fig = plt.figure(figsize=(10, 3.6 * len(panels) + 0.5))
    grid = fig.add_gridspec(
        3 * len(panels),
        8,
        height_ratios=[0.35, 1, 1] * len(panels),
        hspace=0.6,
        wspace=0.1,
        top=1 - 0.5 / fig.get_figheight(),
        bottom=0.01,
        left=0.01,
        right=0.99,
    )
    for k, (label, shown) in enumerate(panels):
        _sample_panel(fig, grid, 3 * k, label, data, shown, probs_of(shown))
    fig.suptitle(
        f"Samples added to the random part (seed {seed}); 'ref': the first reference model's prediction "
        "and its probability; red: it disagrees with the label",
        fontsize=10,
    )
    return fig


def cost_figure(analysis: Analysis) -> Any:
    """Mean accuracy gap to full data against the cost per candidate, per regime."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for _, r in analysis.regimes.iterrows():
        cost = r["train_s_per_run"] + r["validation_s_per_run"]
        gap = 0.0 if r["regime"] == "full" else r["gap_pts"]
        below = [max(0.0, gap - r["ci_low_pts"])] if np.isfinite(r["ci_low_pts"]) else [0]
        above = [max(0.0, r["ci_high_pts"] - gap)] if np.isfinite(r["ci_high_pts"]) else [0]
        ax.errorbar(cost, gap, yerr=[below, above], fmt="o", capsize=3, color=colour(r["regime"]), label=r["regime"])
    ax.axhspan(-MARGIN_PTS, MARGIN_PTS, color="grey", alpha=0.15, label=f"±{MARGIN_PTS} points")
    ax.set(
        xlabel="cost per candidate: SGD + validation (s)",
        ylabel="test accuracy gap to full (points, 90% CI)",
        title=f"Cost vs accuracy per regime ({analysis.epochs} epoch(s); references not included)",
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


@dataclass(frozen=True, kw_only=True)
class FigureData:
    """What the figures are drawn from: the study folder, its runs, the main budget's analysis, the data."""

    layout: StudyLayout
    runs: pd.DataFrame
    analysis: Analysis
    data: ImageData | None = None


@dataclass(frozen=True, kw_only=True)
class Figure:
    """One figure of the report: its file name, caption and how to draw it (None: nothing to draw)."""

    file: str
    caption: str
    draw: Callable[[FigureData], Any]


#: The report's figures, in report order.
FIGURES: tuple[Figure, ...] = (
    Figure(
        file="accuracy.png",
        caption="Accuracy under each regime vs full data, per cell",
        draw=lambda d: accuracy_figure(d.analysis, d.runs),
    ),
    Figure(
        file="ranking.png",
        caption="Kendall tau per regime with the full-vs-full ceiling",
        draw=lambda d: ranking_figure(d.analysis),
    ),
    Figure(
        file="learning_curves.png",
        caption="Learning curves per regime",
        draw=lambda d: learning_curves_figure(d.layout, d.runs, d.analysis.epochs),
    ),
    Figure(
        file="class_accuracy.png",
        caption="Per-class accuracy",
        draw=lambda d: class_accuracy_figure(d.analysis),
    ),
    Figure(
        file="picked_samples.png",
        caption="Samples picked by the active strategy vs a random subset",
        draw=lambda d: None if d.data is None else picked_samples_figure(d.layout, d.data),
    ),
    Figure(file="cost.png", caption="Cost vs accuracy", draw=lambda d: cost_figure(d.analysis)),
)
