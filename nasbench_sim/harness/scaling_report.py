"""The scaling study's report: speed-ups, regret vs simulated wall-clock per worker count, paired tests.

Writes into the study folder: `scaling.md` (its answer first), `scaling.csv`,
`regret_vs_wallclock` (one panel per algorithm, one line per worker count,
mean ± 1 SE over seeds) and `speedup` (speed-up vs workers with a 68% bootstrap
band over seeds and the ideal line), each figure as `.png` and `.pdf`.

The speed-up at N workers is the median over seeds of the one-worker time to
reach the target regret divided by that of N workers (runs that never reach it
count as never; a median that is never is reported as such).

Example:
    >>> import tempfile
    >>> from nasbench_sim.harness.run import Budget
    >>> from nasbench_sim.harness.scaling import compare_workers
    >>> folder = compare_workers(["rs"], range(3), Budget(seconds=4e4), counts=(1, 2), table="surrogate",
    ...                          results=tempfile.mkdtemp(), progress=False)
    >>> (folder / "scaling.md").read_text().startswith("Speed-up")
    True
"""

from __future__ import annotations

import math
import os
import warnings
import zlib
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from nasbench_sim._io import atomic_write_bytes
from nasbench_sim.errors import DataFormatError
from nasbench_sim.harness.plots import percent_axis, regret_at, save_plot
from nasbench_sim.harness.stats import final_runs, idle_share
from nasbench_sim.harness.store import load_experiment, read_metadata
from nasbench_sim.harness.styles import label_of, style_of

#: The study's setup file (worker counts, budget, how it is shared out, the target).
SETUP_NAME = "scaling.json"
#: Bootstrap resamples of seeds for the speed-up band (analysis only; seeded).
BOOTSTRAP = 1000


def load_study(folder: str | os.PathLike) -> tuple[dict[str, Any], pd.DataFrame]:
    """A scaling study's setup and every finished run of it (a `workers` column added).

    Raises:
        DataFormatError: not a scaling study folder, or no finished runs.
    """
    folder = Path(folder)
    setup_path = folder / SETUP_NAME
    if not setup_path.exists():
        raise DataFormatError(f"{folder}: no {SETUP_NAME}; not a scaling study folder")
    setup = read_metadata(setup_path)
    counts = setup.get("counts")
    if not isinstance(counts, list) or not counts or not all(isinstance(c, int) and c >= 1 for c in counts):
        raise DataFormatError(f"{setup_path}: 'counts' must list worker counts")
    frames = []
    for count in counts:
        if not (folder / f"w{count}" / "metadata.json").exists():
            continue
        frame, _ = load_experiment(folder / f"w{count}")
        frame.insert(1, "workers", count)
        frames.append(frame)
    if not frames:
        raise DataFormatError(f"{folder}: no finished runs")
    return setup, pd.concat(frames, ignore_index=True)


def time_to_target(history: pd.DataFrame, target_pct: float) -> pd.DataFrame:
    """Per (algorithm, workers, seed): simulated wall-clock seconds until the incumbent's test regret
    is at most `target_pct` percent (inf: never within the budget).

    Example:
        >>> h = pd.DataFrame({"algorithm": "a", "workers": 1, "seed": 0, "end_time": [1.0, 2.0, 3.0],
        ...                   "test_regret": [0.02, 0.004, 0.001]})
        >>> float(time_to_target(h, 0.5)["seconds"].iloc[0])
        2.0
    """
    reached = history["test_regret"] * 100 <= target_pct + 1e-12
    first = history[reached].groupby(["algorithm", "workers", "seed"])["end_time"].min()
    runs = history.groupby(["algorithm", "workers", "seed"]).size().index
    return first.reindex(runs, fill_value=np.inf).rename("seconds").reset_index()


def default_target(history: pd.DataFrame) -> float:
    """The 75th percentile of the one-worker runs' final test regrets (%): at least 3 in 4 of them reach it.

    (A median target would be reached by only half the runs, so their median time could be never.)
    """
    final = final_runs(history[history["workers"] == 1])
    return float(np.percentile(final["test_regret_pct"], 75, method="higher"))


def speedups(times: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per (algorithm, workers): median time to target, share reached and the speed-up over one worker.

    Args:
        times: `time_to_target` rows (seconds may be inf).
        seed: the bootstrap's seed (each algorithm draws from its own stream, so adding one changes no other).

    Returns:
        Columns algorithm, workers, median_seconds, reached, speedup, speedup_lo, speedup_hi
        (a 68% bootstrap interval over seeds, resampled jointly over worker counts; a resample whose
        median never reaches the target at N counts as a speed-up of 0, one that never reaches it
        with one worker as infinite).
    """
    rows = []
    for algorithm, group in times.groupby("algorithm", sort=False):
        table = group.pivot(index="seed", columns="workers", values="seconds").dropna()
        if 1 not in table:
            continue
        values = table.to_numpy(dtype=float)
        rng = np.random.default_rng([seed, zlib.crc32(str(algorithm).encode())])
        picks = rng.integers(0, len(values), size=(BOOTSTRAP, len(values)))
        medians = np.median(values[picks], axis=1)  # (BOOTSTRAP, counts)
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = medians[:, [0]] / medians  # a resample that never reaches the target at N: 0
            point = _ratio(np.median(values[:, 0]), np.median(values, axis=0))
        for k, count in enumerate(table.columns):
            finite = boot[:, k][~np.isnan(boot[:, k])]  # NaN: never at one worker and at N
            rows.append(
                {
                    "algorithm": algorithm,
                    "workers": int(count),
                    "median_seconds": float(np.median(values[:, k])),
                    "reached": float(np.isfinite(values[:, k]).mean()),
                    "speedup": float(point[k]) if np.isfinite(point[k]) else math.nan,
                    "speedup_lo": float(np.percentile(finite, 16, method="lower")) if len(finite) else math.nan,
                    "speedup_hi": float(np.percentile(finite, 84, method="higher")) if len(finite) else math.nan,
                }
            )
    return pd.DataFrame(rows)


def _ratio(one: np.ndarray, many: np.ndarray) -> np.ndarray:
    """one / many where both times are finite, else NaN (a median that never reaches the target)."""
    both = np.isfinite(one) & np.isfinite(many)
    return np.where(both, one / np.where(both, many, 1.0), np.nan)


def study_table(history: pd.DataFrame, target_pct: float) -> pd.DataFrame:
    """One row per (algorithm, workers): final error, its paired change from one worker, cost and speed-up."""
    out = speedups(time_to_target(history, target_pct))
    rows = []
    for (algorithm, count), group in history.groupby(["algorithm", "workers"], sort=False):
        final = final_runs(group)
        base = final_runs(history[(history["algorithm"] == algorithm) & (history["workers"] == 1)])
        pair = (
            final.set_index("seed")["test_error_pct"]
            .to_frame("n")
            .join(base.set_index("seed")["test_error_pct"].rename("one"), how="inner")
        )
        diff = pair["n"] - pair["one"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            p = math.nan if count == 1 or np.allclose(diff, 0) else float(stats.wilcoxon(pair["n"], pair["one"]).pvalue)
        err = final["test_error_pct"]
        rows.append(
            {
                "algorithm": algorithm,
                "workers": int(count),
                "runs": len(final),
                "test error %": err.mean(),
                "± SE": err.std(ddof=1) / np.sqrt(len(err)) if len(err) > 1 else math.nan,
                "between-realization SD": _between_realizations(final),
                "change vs 1 worker": diff.mean() if count != 1 else 0.0,
                "Wilcoxon p": p,
                "queries/run": group.groupby("seed").size().mean(),
                "wall-clock h/run": final["end_time"].mean() / 3600,
                "idle share": idle_share(group, int(count)),
            }
        )
    table = pd.DataFrame(rows).merge(out, on=["algorithm", "workers"], how="left")
    return table.sort_values(["algorithm", "workers"], kind="stable").reset_index(drop=True)


def _between_realizations(final: pd.DataFrame) -> float:
    """SD of the per-realization mean final test error (NaN with one realization)."""
    if "realization" not in final or final["realization"].nunique() < 2:
        return math.nan
    return float(final.groupby("realization")["test_error_pct"].mean().std(ddof=1))


def headline(table: pd.DataFrame, target_pct: float, setup: dict[str, Any], meta: dict[str, Any]) -> str:
    """The answer in one sentence: each algorithm's speed-up at the largest worker count."""
    top = int(table["workers"].max())
    rows = table[table["workers"] == top].sort_values("speedup", ascending=False, na_position="last")
    parts = [
        f"{label_of(r.algorithm, meta)} {r.speedup:.0f}x"
        if np.isfinite(r.speedup)
        else f"{label_of(r.algorithm, meta)} never"
        for r in rows.itertuples()
    ]
    equal = "equal compute" if setup.get("equal") == "compute" else "equal wall-clock"
    return (
        f"Speed-up at {top} simulated workers (median time to {target_pct:.3f}% test regret vs one worker, {equal}; "
        f"ideal {top}x): " + ", ".join(parts) + "."
    )


def write_report(folder: str | os.PathLike) -> list[Path]:
    """Write the scaling report of a study folder (see the module docstring); returns the files written."""
    folder = Path(folder)
    setup, history = load_study(folder)
    target = setup.get("target_pct")
    target = default_target(history) if target is None else float(target)
    meta = _first_meta(folder, setup)
    table = study_table(history, target)
    written = [*_wallclock_figure(history, meta, folder), *_speedup_figure(table, meta, target, folder)]
    csv = folder / "scaling.csv"
    atomic_write_bytes(csv, table.to_csv(index=False).encode())
    shown = table.drop(columns=["speedup_lo", "speedup_hi", "median_seconds"]).assign(
        **{
            "median h to target": table["median_seconds"] / 3600,
            "speed-up (68% CI)": [
                _speedup_text(*row)
                for row in zip(
                    table["speedup"], table["speedup_lo"], table["speedup_hi"], table["median_seconds"], strict=True
                )
            ],
        }
    )
    shown = shown.drop(columns=["speedup"])
    shown["algorithm"] = [label_of(a, meta) for a in shown["algorithm"]]
    budget = setup.get("budget", {})
    budget_text = f"{budget['queries']} queries" if budget.get("queries") else f"{budget.get('seconds'):g} simulated s"
    lines = [
        headline(table, target, setup, meta),
        "",
        f"- Table: {meta.get('table', {}).get('label', '?')}; protocol {meta.get('protocol', {}).get('name', '?')}; "
        f"budget {budget_text} at one worker, "
        + ("divided by the worker count (equal compute)" if setup.get("equal") == "compute" else "at every count")
        + f"; schedule {setup.get('schedule')}; search time "
        + ("charged to the clock" if setup.get("charge_search_time") else "free")
        + ".",
        f"- Target: {target:.3f}% test regret (mean-of-3 test accuracy of the incumbent against the table's best).",
        "- Speed-up: median over seeds of the one-worker time to the target divided by that at N workers; runs that "
        "never reach it count as never. 'change vs 1 worker' is the paired (same seed) change of the final test "
        "error; idle share counts worker-seconds idle before a run's last query started.",
        "",
        shown.to_markdown(index=False, floatfmt=".4g"),
        "",
    ]
    md = folder / "scaling.md"
    atomic_write_bytes(md, "\n".join(lines).encode())
    return [*written, csv, md]


def _speedup_text(speedup: float, lo: float, hi: float, median_seconds: float) -> str:
    if np.isfinite(speedup):
        return f"{speedup:.1f} ({lo:.1f}-{hi:.1f})"
    return "never" if not np.isfinite(median_seconds) else "n/a (never at 1 worker)"


def _first_meta(folder: Path, setup: dict[str, Any]) -> dict[str, Any]:
    for count in setup["counts"]:
        path = folder / f"w{count}" / "metadata.json"
        if path.exists():
            return read_metadata(path)
    return {}


def _wallclock_figure(history: pd.DataFrame, meta: dict[str, Any], out: Path) -> list[Path]:
    algorithms = list(dict.fromkeys(history["algorithm"]))
    counts = sorted(history["workers"].unique())
    columns = min(3, len(algorithms))
    rows = math.ceil(len(algorithms) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False, sharey=True)
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(counts)))
    positive = history.loc[history["end_time"] > 0, "end_time"]
    lo, hi = float(positive.min()), float(history["end_time"].max())
    grid = np.geomspace(max(lo, 1.0), max(hi, lo * 1.01, 1.01), 120)
    for ax, algorithm in zip(axes.ravel(), algorithms, strict=False):
        for colour, count in zip(colours, counts, strict=True):
            group = history[(history["algorithm"] == algorithm) & (history["workers"] == count)]
            if group.empty:
                continue
            ends = group.groupby("seed")["end_time"].max().min()
            starts = group.groupby("seed")["end_time"].min().max()  # every seed has a result from here on
            x = grid[(grid >= starts) & (grid <= ends)]
            values = 100 * regret_at(group, x, "end_time")
            n = np.sum(~np.isnan(values), axis=0)
            with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)  # times before a run's first result
                mean = np.nanmean(values, axis=0)
                se = np.nanstd(values, axis=0, ddof=1) / np.sqrt(n)
            ax.plot(x, mean, color=colour, lw=1.5, label=f"{count} worker{'s' if count > 1 else ''}")
            ax.fill_between(
                x,
                np.clip(mean - np.nan_to_num(se), 1e-6, None),
                mean + np.nan_to_num(se),
                color=colour,
                alpha=0.18,
                lw=0,
            )
        ax.set(xscale="log", yscale="log", title=label_of(algorithm, meta), xlabel="simulated wall-clock (s)")
        percent_axis(ax)
        ax.grid(alpha=0.3, which="both")
    for ax in axes.ravel()[len(algorithms) :]:
        ax.axis("off")
    axes[0, 0].set_ylabel("test regret (%)")
    axes[0, 0].legend(fontsize=7)
    seeds = history.groupby(["algorithm", "workers"])["seed"].nunique().min()
    fig.suptitle(f"Mean test regret ± 1 SE vs simulated wall-clock ({seeds} seeds)", fontsize=9)
    fig.tight_layout()
    return save_plot(fig, out, "regret_vs_wallclock")


def _speedup_figure(table: pd.DataFrame, meta: dict[str, Any], target: float, out: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    counts = sorted(table["workers"].unique())
    ax.plot(counts, counts, color="0.6", ls="--", lw=1, label="ideal")
    for algorithm, group in table.groupby("algorithm", sort=False):
        st = style_of(algorithm, meta)
        ax.plot(
            group["workers"], group["speedup"], color=st["color"], marker=st["marker"], label=label_of(algorithm, meta)
        )
        band = group[["speedup_lo", "speedup_hi"]].to_numpy(dtype=float)
        band = np.where(np.isfinite(band) & (band > 0), band, np.nan)  # log axis: 0 (never) and inf not drawn
        ax.fill_between(group["workers"], band[:, 0], band[:, 1], color=st["color"], alpha=0.15, lw=0)
    ax.set(xscale="log", yscale="log", xlabel="simulated workers", ylabel="speed-up over one worker")
    ax.set_xticks(counts, [str(c) for c in counts])
    ax.set_title(f"Speed-up to {target:.3f}% test regret (median over seeds, 68% bootstrap band)", fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return save_plot(fig, out, "speedup")
