"""Report of an active-selection study: figures, CSV tables, Markdown, HTML and a JSON summary.

Everything is read back from the study folder (`study.load_results`), so a
report can be rebuilt without retraining. Every number in the Markdown and
HTML tables carries its unit, and an undefined statistic is written as text
saying why (never `NaN`). Figures:

- `accuracy.png`: per cell, test accuracy under each regime against full data
  (± SD over seeds), and the paired gap with its 90% CI against the ±0.5-point margin;
- `ranking.png`: cross-seed Kendall tau per regime and score, with the
  full-vs-full ceiling;
- `learning_curves.png`: minibatch training loss against SGD steps per regime;
- `class_accuracy.png`: per-class test accuracy of full data and each regime's gap;
- `picked_samples.png`: samples the active strategy added (highest L1 and a
  random draw of its picks) next to a random subset's, with the reference's prediction;
- `cost.png`: accuracy gap against cost per candidate.

Evaluation during training stays in TensorBoard (`<study>/tensorboard`).

Example:
    >>> from nasbench_sim.activesel.report import format_points
    >>> format_points(0.123), format_points(float("nan"), "no pairs")
    ('+0.12', 'n/a (no pairs)')
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim._io import atomic_write_bytes, atomic_write_figure
from nasbench_sim.activesel.config import StudyConfig
from nasbench_sim.activesel.data import ImageData
from nasbench_sim.activesel.selection import REGIMES
from nasbench_sim.activesel.stats import MARGIN_PTS, QUERIES, Analysis, analyse, summary
from nasbench_sim.activesel.study import load_losses, load_results

COLORS = {
    "full": "#000000", "active": "#D55E00", "random": "#0072B2", "random-part": "#56B4E9", "el2n": "#CC79A7",
    "entropy-hist": "#009E73", "compute-matched": "#E69F00", "entropy": "#999999", "margin": "#F0E442",
}  # fmt: skip
FIGURES = ("accuracy.png", "ranking.png", "learning_curves.png", "class_accuracy.png", "picked_samples.png", "cost.png")


def format_points(value: float, why: str = "undefined") -> str:
    """A signed value in points with 2 decimals, or 'n/a (why)'."""
    return f"{value:+.2f}" if np.isfinite(value) else f"n/a ({why})"


def _num(value: float, fmt: str, why: str = "undefined") -> str:
    return format(value, fmt) if np.isfinite(value) else f"n/a ({why})"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    atomic_write_figure(fig, path, dpi=110, bbox_inches="tight")
    _plt().close(fig)


def _write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


# ---------------------------------------------------------------- display tables (strings with units)


def regimes_display(table: pd.DataFrame) -> pd.DataFrame:
    """Per-regime table as strings with units."""
    rows = []
    for _, r in table.iterrows():
        is_full = r["regime"] == "full"
        if is_full:
            gap, p, eq, cells = "0 (the reference)", "n/a (the reference)", "n/a (the reference)", "n/a (the reference)"
        else:
            why = r["note"] or "undefined"
            gap = f"{format_points(r['gap_pts'], why)} [{format_points(r['ci_low_pts'], why)}, {format_points(r['ci_high_pts'], why)}]"
            p = _num(r["tost_p"], ".2g", why)
            eq = "yes" if r["equivalent"] else ("no" if np.isfinite(r["tost_p"]) else f"n/a ({why})")
            cells = (
                f"{int(r['cells_equivalent'])} of {int(r['cells_tested'])}"
                if r["cells_tested"]
                else "n/a (needs >= 2 seeds)"
            )
        rows.append({
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
        })  # fmt: skip
    return pd.DataFrame(rows)


def ranking_display(table: pd.DataFrame) -> pd.DataFrame:
    """Ranking table as strings with units."""
    rows = []
    for _, r in table.iterrows():
        why = r["note"] or "undefined"
        if np.isfinite(r["kendall_tau"]):
            sd = f" ± {r['kendall_tau_sd']:.2f}" if np.isfinite(r["kendall_tau_sd"]) else " (one pair: no SD)"
            tau = f"{r['kendall_tau']:.2f}{sd}"
        else:
            tau = f"n/a ({why})"
        k = int(r["top_k"])
        rows.append({
            "regime": r["regime"], "score": r["score"],
            "Kendall tau vs independent full run": tau,
            "seed pairs": str(int(r["seed_pairs"])),
            f"top-{k} overlap (%)": f"{100 * r['top_k_overlap']:.0f}",
            "picked cell (per seed)": r["picks"],
            "pick's full-data accuracy (%)": f"{r['pick_full_pct']:.2f}",
            "regret (points)": f"{r['regret_pts']:.2f}",
            "note": r["note"] or "-",
        })  # fmt: skip
    return pd.DataFrame(rows)


def cells_display(cells: pd.DataFrame) -> pd.DataFrame:
    """Rows = cells, columns = regimes: gap (points) [90% CI], '✓' where equivalent."""
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
    table = classes.copy()
    table.columns = [f"digit {c} (%)" for c in table.columns]
    table = table.map(lambda v: f"{v:.2f}")
    return table.reset_index().rename(columns={"regime": "regime"})


# ---------------------------------------------------------------- figures


def plot_accuracy(analysis: Analysis, runs: pd.DataFrame, path: Path) -> None:
    """Regime vs full accuracy per cell (± SD over seeds) and the paired gaps with 90% CIs."""
    plt = _plt()
    runs = runs[runs["epochs"] == analysis.epochs]
    stats_ = runs.groupby(["regime", "cell_index"])["test_accuracy"].agg(["mean", "std"]) * 100
    regimes = [r for r in analysis.regimes["regime"] if r != "full"]
    full = stats_.loc["full"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2))
    for regime in regimes:
        mine = stats_.loc[regime].reindex(full.index)
        left.errorbar(full["mean"], mine["mean"], xerr=full["std"].fillna(0), yerr=mine["std"].fillna(0), fmt="o",
                      ms=4, capsize=2, color=COLORS.get(regime), label=regime, alpha=0.85)  # fmt: skip
    lo = float(stats_["mean"].min()) - 0.3
    hi = float(stats_["mean"].max()) + 0.3
    left.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
    left.fill_between([lo, hi], [lo - MARGIN_PTS, hi - MARGIN_PTS], [lo + MARGIN_PTS, hi + MARGIN_PTS], color="grey",
                      alpha=0.15, label=f"±{MARGIN_PTS} points")  # fmt: skip
    left.set(xlabel="full-data test accuracy (%)", ylabel="test accuracy under the regime (%)",
             title=f"Per cell, mean ± SD over seeds ({analysis.epochs} epoch(s))")  # fmt: skip
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
        right.errorbar(mine["gap_pts"], y, xerr=[low, high], fmt="o", ms=3, capsize=2, color=COLORS.get(regime))
    right.axvspan(-MARGIN_PTS, MARGIN_PTS, color="grey", alpha=0.15)
    right.axvline(0, color="k", lw=0.8)
    right.set_yticks(np.arange(len(order)), [names[i] for i in order], fontsize=7)
    right.set(xlabel="test accuracy gap to full data (points), mean and 90% CI over seeds",
              title="Paired gap per cell (cells sorted by full-data accuracy)")  # fmt: skip
    right.grid(alpha=0.3, axis="x")
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    _save(fig, path)


def plot_ranking(analysis: Analysis, path: Path) -> None:
    """Kendall tau per regime and score with the full-vs-full ceiling."""
    plt = _plt()
    table = analysis.ranking
    regimes = list(dict.fromkeys(table["regime"]))
    fig, ax = plt.subplots(figsize=(9, 4.2))
    x = np.arange(len(regimes))
    for offset, score, hatch in ((-0.2, "validation accuracy", ""), (0.2, "TSE", "//")):
        rows = table[table["score"] == score].set_index("regime").reindex(regimes)
        ax.bar(x + offset, rows["kendall_tau"].fillna(0), 0.4, yerr=rows["kendall_tau_sd"].fillna(0), capsize=3,
               color=[COLORS.get(r, "grey") for r in regimes], hatch=hatch, edgecolor="white",
               label=f"score: {score}")  # fmt: skip
        for xi, tau in zip(x + offset, rows["kendall_tau"], strict=True):
            if not np.isfinite(tau):
                ax.text(xi, 0.02, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
    ceiling = table.set_index(["regime", "score"]).loc[("full", "validation accuracy"), "kendall_tau"]
    if np.isfinite(ceiling) and bool(table["cross_seed"].iloc[0]):
        ax.axhline(ceiling, color="k", ls="--", lw=1, label=f"ceiling: full vs full across seeds ({ceiling:.2f})")
    ax.set_xticks(x, regimes, rotation=20)
    kind = "cross-seed" if bool(table["cross_seed"].iloc[0]) else "same-seed (one seed)"
    ax.set(ylabel="Kendall tau with full-data test accuracy",
           title=f"Ranking of cells vs an independent full-data run ({kind}, mean ± SD; {analysis.epochs} epoch(s))")  # fmt: skip
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylim(-1.05, 1.05)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3, axis="y")
    _save(fig, path)


def plot_learning_curves(out: Path, runs: pd.DataFrame, epochs: int, path: Path) -> None:
    """Mean minibatch training loss (moving average) against SGD steps, per regime."""
    plt = _plt()
    runs = runs[runs["epochs"] == epochs]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for regime in [r for r in REGIMES if r in set(runs["regime"])]:
        curves = [load_losses(out, r) for _, r in runs[runs["regime"] == regime].iterrows()]
        length = min(len(c) for c in curves)
        mean = np.mean([c[:length] for c in curves], axis=0)
        window = max(1, length // 40)
        smooth = np.convolve(mean, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window, length + 1), smooth, color=COLORS.get(regime), label=f"{regime} ({length} steps)")
    from matplotlib.ticker import FuncFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set(xlabel="SGD step", ylabel="minibatch cross-entropy (nats, moving average)",
           title=f"Training loss per regime, mean over cells and seeds ({epochs} epoch(s))")  # fmt: skip
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    _save(fig, path)


def plot_class_accuracy(analysis: Analysis, path: Path) -> None:
    """Full-data accuracy per class (bars) and each regime's per-class gap (heatmap, points)."""
    plt = _plt()
    classes = analysis.classes
    full = classes.loc["full"]
    others = classes.drop(index="full")
    if others.empty:  # a study of full data alone has no gaps to show
        others = classes.loc[["full"]]
    gaps = others - full
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 2.6 + 0.45 * max(1, len(others))),
                                      gridspec_kw={"height_ratios": [1, max(1, len(others)) * 0.45]})  # fmt: skip
    top.bar(np.arange(len(full)), full.to_numpy(), color="#555555")
    top.set(ylabel="full data (%)", title=f"Per-class test accuracy, mean over cells and seeds ({analysis.epochs} epoch(s))",
            ylim=(max(0.0, float(full.min()) - 2), 100))  # fmt: skip
    top.set_xticks(np.arange(len(full)), [str(c) for c in full.index])
    limit = max(0.5, float(np.abs(gaps.to_numpy()).max())) if len(gaps) else 1.0
    image = bottom.imshow(gaps.to_numpy(), cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    for (i, j), value in np.ndenumerate(gaps.to_numpy()):
        bottom.text(j, i, f"{value:+.1f}", ha="center", va="center", fontsize=7)
    bottom.set_xticks(np.arange(gaps.shape[1]), [f"digit {c}" for c in gaps.columns], fontsize=8)
    bottom.set_yticks(np.arange(len(gaps)), gaps.index)
    fig.colorbar(image, ax=bottom, label="gap to full data (points)", fraction=0.03)
    fig.tight_layout()
    _save(fig, path)


def _sample_panel(fig: Any, grid: Any, row: int, title: str, data: ImageData, indices: np.ndarray,
                  probs: dict[int, np.ndarray]) -> None:  # fmt: skip
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
            ax.set_title(f"label {label}\nref: {guess} ({100 * p[guess]:.0f}%)", fontsize=7,
                         color="#B00020" if guess != label else "black")  # fmt: skip


def plot_picked_samples(out: Path, data: ImageData, path: Path, seed: int = 0) -> dict[str, Any]:
    """Image grid of active picks vs random picks of one seed; returns selection diagnostics.

    Returns:
        share of each added part the first reference model misclassifies (in [0, 1]) and
        their mean reference probability of the label (in [0, 1]).
    """
    plt = _plt()
    folder = out / "subsets" / f"seed{seed}"
    ref = out / "references" / f"seed{seed}" / "ref0.probs.npy"
    base = np.load(folder / "random-part.npy")
    rest = np.setdiff1d(np.arange(len(data.train)), base)
    rest_probs = np.load(ref) if ref.exists() else None
    diagnostics: dict[str, Any] = {"seed": seed}

    def probs_of(indices: np.ndarray) -> dict[int, np.ndarray]:
        if rest_probs is None:
            return {}
        return {int(i): rest_probs[np.searchsorted(rest, i)] for i in indices}

    panels = []
    display_rng = np.random.default_rng(seed)  # which picks to show; fixed so the figure is reproducible
    for regime, how in (("active", "top"), ("active", "sample"), ("random", "sample")):
        added_file = folder / f"{regime}.added.npy"
        if not added_file.exists():
            continue
        added = np.load(added_file)
        shown = (
            added[:16] if how == "top" else np.sort(display_rng.choice(added, size=min(16, len(added)), replace=False))
        )
        label = (
            f"{regime}: the 16 highest L1 scores (most surprising to the reference)"
            if how == "top"
            else f"{regime}: 16 random samples of its {len(added):,} added images"
        )
        panels.append((label, shown))
        if rest_probs is not None and len(added):
            p = rest_probs[np.searchsorted(rest, added)]
            y = data.train.y[added]
            diagnostics[regime] = {
                "added_images": len(added),
                "reference_misclassified_share": float((p.argmax(1) != y).mean()),
                "mean_reference_label_probability": float(p[np.arange(len(y)), y].mean()),
            }
    if not panels:
        return diagnostics
    fig = plt.figure(figsize=(10, 3.6 * len(panels) + 0.5))
    grid = fig.add_gridspec(3 * len(panels), 8, height_ratios=[0.35, 1, 1] * len(panels), hspace=0.6, wspace=0.1,
                            top=1 - 0.5 / fig.get_figheight(), bottom=0.01, left=0.01, right=0.99)  # fmt: skip
    for k, (label, shown) in enumerate(panels):
        _sample_panel(fig, grid, 3 * k, label, data, shown, probs_of(shown))
    fig.suptitle(f"Samples added to the random part (seed {seed}); 'ref': the first reference model's prediction "
                 "and its probability; red: it disagrees with the label", fontsize=10)  # fmt: skip
    _save(fig, path)
    return diagnostics


def plot_cost(analysis: Analysis, path: Path) -> None:
    """Mean accuracy gap to full data against the cost per candidate, per regime."""
    plt = _plt()
    table = analysis.regimes
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for _, r in table.iterrows():
        cost = r["train_s_per_run"] + r["validation_s_per_run"]
        gap = 0.0 if r["regime"] == "full" else r["gap_pts"]
        ax.errorbar(cost, gap, yerr=[[max(0.0, gap - r["ci_low_pts"])] if np.isfinite(r["ci_low_pts"]) else [0],
                                     [max(0.0, r["ci_high_pts"] - gap)] if np.isfinite(r["ci_high_pts"]) else [0]],
                    fmt="o", capsize=3, color=COLORS.get(r["regime"]), label=r["regime"])  # fmt: skip
    ax.axhspan(-MARGIN_PTS, MARGIN_PTS, color="grey", alpha=0.15, label=f"±{MARGIN_PTS} points")
    ax.set(xlabel="cost per candidate: SGD + validation (s)", ylabel="test accuracy gap to full (points, 90% CI)",
           title=f"Cost vs accuracy per regime ({analysis.epochs} epoch(s); references not included)")  # fmt: skip
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)


# ---------------------------------------------------------------- documents


def _markdown_table(table: pd.DataFrame) -> str:
    if table.empty:
        return "(no rows)"
    return table.to_markdown(index=False, disable_numparse=True)  # keep '1.00' as written


_NUMBER = re.compile(r"^[+-]?[\d,]+(\.\d+)?( \[| ±| \(|$)")


def _html_table(table: pd.DataFrame) -> str:
    """An HTML table; columns whose cells all start with a number are right-aligned."""
    if table.empty:
        return "<p>(no rows)</p>"
    numeric = [all(_NUMBER.match(str(v)) for v in table[c]) for c in table.columns]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = []
    for values in table.itertuples(index=False):
        cells = "".join(
            f"<td class='{'num' if n else 'txt'}'>{html.escape(str(v))}</td>"
            for v, n in zip(values, numeric, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _budget_sections(analysis: Analysis, suffix: str) -> list[tuple[str, pd.DataFrame, str]]:
    return [
        (f"Regimes ({analysis.epochs} epoch(s))", regimes_display(analysis.regimes), f"regimes{suffix}.csv"),
        (f"Ranking of cells ({analysis.epochs} epoch(s))", ranking_display(analysis.ranking), f"ranking{suffix}.csv"),
        (f"Per cell: gap to full data ({analysis.epochs} epoch(s)); ✓ = equivalent within ±{MARGIN_PTS} points",
         cells_display(analysis.cells), f"cells{suffix}.csv"),
        (f"Per-class test accuracy ({analysis.epochs} epoch(s))", classes_display(analysis.classes),
         f"class_accuracy{suffix}.csv"),
    ]  # fmt: skip


def _intro(config: StudyConfig, description: dict[str, Any], info: dict[str, Any]) -> list[str]:
    sizes = description["data"]["sizes"]
    t = config.training
    known = info["known_cells"]
    known_text = (
        f"{known['mean_full_test_accuracy_pct']:.2f}%" if known["mean_full_test_accuracy_pct"] is not None else "n/a"
    )
    return [
        f"Data: {description['data']['name']} ({description['data']['source']}); pool {sizes['train']:,} training "
        f"images, {sizes['validation']:,} validation, {sizes['test']:,} test.",
        f"Candidates: {config.num_cells} NB101 cells ({', '.join(config.known_cells)} and {config.random_cells} seeded "
        f"random cells), {config.seeds} seed(s); network stem {t.stem_channels}, {t.num_stacks} stacks x "
        f"{t.cells_per_stack} cell(s); AdamW lr {t.lr:g} cosine, batch {t.batch_size}, {t.epochs} epoch(s)"
        + (f"; control: {config.control_epochs} epochs on the first {config.control_cells} cells "
           f"({', '.join(config.control_regimes)})" if config.has_control else "")
        + f"; device {t.device}.",
        f"Reference models: {config.reference_cell}, trained on the random {config.selection.random_fraction:.0%} "
        f"({config.selection.reference_models} initialisations for EL2N; the first scores L1 and entropy).",
        f"Mean full-data test accuracy of the known cells: {known_text} (target >= {info['definitions']['known_cells_target_pct']}%: "
        f"{'met' if known['target_met'] else 'not met'}).",
        f"Runs: {info['runs']} training runs and {info['reference_models']} reference models; "
        f"{info['wall_seconds_total'] / 60:.1f} min of run time in all.",
    ]  # fmt: skip


def write_report(
    out: str | Path, config: StudyConfig, *, data: ImageData | None = None, dest: str | Path | None = None
) -> list[Path]:
    """Write the report of the study in `out` to `dest` (default: `out`); returns the written paths.

    Args:
        out: study folder.
        config: its configuration.
        data: its data, for the image grid of picked samples (None: no grid).
        dest: where the report files go.
    """
    out = Path(out)
    dest = Path(dest) if dest is not None else out
    runs, references = load_results(out)
    description = json.loads((out / "config.json").read_text())
    analyses = analyse(runs, references, config)
    info = summary(analyses, config, runs, references)
    info["data"] = description["data"]
    info["candidates"] = description["candidates"]
    info["config"] = description["config"]
    written: list[Path] = []

    main = analyses[0]
    figures = {
        "accuracy.png": lambda p: plot_accuracy(main, runs, p),
        "ranking.png": lambda p: plot_ranking(main, p),
        "learning_curves.png": lambda p: plot_learning_curves(out, runs, main.epochs, p),
        "class_accuracy.png": lambda p: plot_class_accuracy(main, p),
        "cost.png": lambda p: plot_cost(main, p),
    }
    for name, draw in figures.items():
        draw(dest / name)
        written.append(dest / name)
    if data is not None:
        info["picked_samples"] = plot_picked_samples(out, data, dest / "picked_samples.png")
        if (dest / "picked_samples.png").exists():
            written.append(dest / "picked_samples.png")

    sections: list[tuple[str, pd.DataFrame, str]] = []
    for k, analysis in enumerate(analyses):
        suffix = "" if k == 0 else f"_e{analysis.epochs}"
        sections += _budget_sections(analysis, suffix)
        for name, table in (("regimes", analysis.regimes), ("ranking", analysis.ranking), ("cells", analysis.cells),
                            ("class_accuracy", analysis.classes.reset_index())):  # fmt: skip
            path = dest / f"{name}{suffix}.csv"
            _write_text(path, table.to_csv(index=False))
            written.append(path)

    intro = _intro(config, description, info)
    verdicts = [v for budget in info["budgets"] for v in budget["verdicts"]]
    images = [f for f in FIGURES if (dest / f).exists()]
    captions = {
        "accuracy.png": "Accuracy under each regime vs full data, per cell",
        "ranking.png": "Kendall tau per regime with the full-vs-full ceiling",
        "learning_curves.png": "Learning curves per regime",
        "class_accuracy.png": "Per-class accuracy",
        "picked_samples.png": "Samples picked by the active strategy vs a random subset",
        "cost.png": "Cost vs accuracy",
    }

    md = ["# Active-selection study", "", *[f"- {line}" for line in intro], "", "## Outcome", ""]
    md += [f"- {v}" for v in verdicts] + [""]
    for title, table, _ in sections:
        md += [f"## {title}", "", _markdown_table(table), ""]
    md += ["## Figures", ""] + [f"![{captions[f]}]({f})" for f in images] + [""]
    md += ["Definitions: see `nasbench_sim/activesel/stats.py`. Evaluation during training: "
           "`nasbench-sim activesel dashboard <study folder>` (TensorBoard).", ""]  # fmt: skip
    _write_text(dest / "report.md", "\n".join(md))
    written.append(dest / "report.md")

    body = ["<h1>Active-selection study</h1>", "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in intro) + "</ul>"]
    body += ["<h2>Outcome</h2>", "<ul>" + "".join(f"<li>{html.escape(v)}</li>" for v in verdicts) + "</ul>"]
    for title, table, _ in sections:
        body += [f"<h2>{html.escape(title)}</h2>", _html_table(table)]
    body += ["<h2>Figures</h2>"]
    body += [f'<figure><img src="{f}" alt="{html.escape(captions[f])}"><figcaption>{html.escape(captions[f])}'
             "</figcaption></figure>" for f in images]  # fmt: skip
    body += ["<p>Definitions: see <code>nasbench_sim/activesel/stats.py</code>. Evaluation during training: "
             "<code>nasbench-sim activesel dashboard &lt;study folder&gt;</code> (TensorBoard).</p>"]  # fmt: skip
    _write_text(dest / "report.html", _page("\n".join(body)))
    written.append(dest / "report.html")

    _write_text(dest / "summary.json", json.dumps(_finite(info), indent=2, sort_keys=True, allow_nan=False) + "\n")
    written.append(dest / "summary.json")
    return written


def _finite(obj: Any) -> Any:
    """Replace non-finite floats (none should remain) by None so the JSON is valid."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _page(body: str) -> str:
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1250px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}"
        "th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#f2f2f2}"
        "td.num{text-align:right;white-space:nowrap}img{max-width:100%}figure{margin:1em 0}"
        "figcaption{color:#555;font-size:13px}"
    )
    return (
        f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><title>Active-selection study</title>"
        f"<style>{style}</style></head><body>\n{body}\n</body></html>\n"
    )
