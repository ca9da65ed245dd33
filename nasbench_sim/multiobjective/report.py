"""The report of a multi-objective experiment: final hypervolume and IGD+ per searcher, paired tests, figures.

`final_runs` takes each run's last query; `summary_table` gives per searcher
the mean final hypervolume ratio (found / exact front, 1 = the whole front)
and IGD+ with their standard errors; `report_markdown` leads with the answer
in one sentence, then the table and the paired tests (Friedman, and
Holm-corrected Wilcoxon signed-rank tests against the best, paired by seed, on
the hypervolume shortfall 1 - ratio, with `harness.stats.paired_tests`).
`figures` draws the hypervolume shortfall against queries (mean and SE band
over seeds, log axes) and, for one seed, each searcher's non-dominated cells over the exact
front.

Example:
    >>> import pandas as pd
    >>> from nasbench_sim.multiobjective.report import final_runs, summary_table
    >>> frame = pd.DataFrame({"algorithm": ["a", "a", "b", "b"], "seed": [0, 1, 0, 1], "query": [1] * 4,
    ...                       "hypervolume_ratio": [0.9, 0.8, 0.7, 0.6], "igd_plus": [0.1, 0.2, 0.3, 0.4]})
    >>> summary_table(final_runs(frame))["final hypervolume ratio"].round(3).tolist()
    [0.85, 0.65]
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim._io import atomic_write_figure
from nasbench_sim.harness.stats import paired_tests


def final_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (algorithm, seed): its last query, with `hypervolume_shortfall` = 1 - ratio."""
    last = frame.sort_values("query").groupby(["algorithm", "seed"], sort=False).tail(1)
    return last.assign(hypervolume_shortfall=1.0 - last["hypervolume_ratio"]).reset_index(drop=True)


def summary_table(final: pd.DataFrame) -> pd.DataFrame:
    """Per searcher (best hypervolume first): runs, mean final hypervolume ratio and IGD+, each with its SE
    and its between-realization SD (the spread the modelled fields alone cause; NaN with one realization)."""
    grouped = final.groupby("algorithm", sort=False)

    def se(values: pd.Series) -> float:
        return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")

    def between(metric: str) -> pd.Series:
        """SD over noise realizations of the per-realization mean (NaN with one realization)."""
        if "realization" not in final or final["realization"].nunique() < 2:
            return pd.Series(float("nan"), index=grouped.size().index)
        means = final.groupby(["algorithm", "realization"], sort=False)[metric].mean()
        return means.groupby(level="algorithm", sort=False).std(ddof=1)

    table = pd.DataFrame(
        {
            "runs": grouped.size(),
            "final hypervolume ratio": grouped["hypervolume_ratio"].mean(),
            "SE": grouped["hypervolume_ratio"].agg(se),
            "between-realization SD": between("hypervolume_ratio"),
            "final IGD+": grouped["igd_plus"].mean(),
            "IGD+ SE": grouped["igd_plus"].agg(se),
            "IGD+ between-realization SD": between("igd_plus"),
        }
    )
    table = table.rename_axis("algorithm").reset_index()
    # Best first; ties by name, as the paired tests break them.
    return table.sort_values(["final hypervolume ratio", "algorithm"], ascending=[False, True], kind="stable")


def report_markdown(frame: pd.DataFrame, meta: Mapping[str, Any]) -> str:
    """The experiment's summary as Markdown, its answer first."""
    final = final_runs(frame)
    table = summary_table(final).reset_index(drop=True)
    with warnings.catch_warnings():  # every run tied (e.g. all still in their random start): scipy warns
        warnings.simplefilter("ignore", RuntimeWarning)
        tests = paired_tests(final, metric="hypervolume_shortfall")
    best = table.iloc[0]
    objectives = " and ".join(meta["objectives"])
    lines = [
        f"Best final hypervolume on {objectives}: {best['algorithm']}, {best['final hypervolume ratio']:.4f} of "
        f"the exact front's (SE {best['SE']:.4f}, {int(best['runs'])} seeds, {meta['queries']} queries).",
        "",
        f"Table: {meta['table']}. Objectives (all minimised) normalised from the exact front's ideal point (0) to "
        "its nadir (1); reference point 1.1. Hypervolume ratio: the found cells' hypervolume over the exact "
        "front's; IGD+: mean distance from the exact front to the found cells, counting only where they are worse.",
        "",
    ]
    if meta.get("realizations", 1) > 1:
        lines += [
            f"Seed s runs on noise realization s % {meta['realizations']} of the table, scored against that "
            "realization's exact front; the between-realization SD is the SD of the per-realization means, the "
            "spread the modelled fields alone cause, which no number of seeds removes.",
            "",
        ]
    lines += [
        table.to_markdown(index=False, floatfmt=".4f"),
        "",
    ]
    if tests.get("friedman") and np.isfinite(tests["friedman"]["p"]):
        lines.append(f"Friedman test over {tests['seeds']} paired seeds: p = {tests['friedman']['p']:.3g}.")
    if len(tests["pairwise"]):
        lines += [
            f"Wilcoxon signed-rank tests against {tests['best']} on the hypervolume shortfall, Holm-corrected:",
            "",
            tests["pairwise"].to_markdown(index=False, floatfmt=".4g"),
        ]
    return "\n".join(lines) + "\n"


def figures(frame: pd.DataFrame, scoring: Any, out: Path, seed: int | None = None) -> list[Path]:
    """`hypervolume_vs_queries` and, for two objectives, `front` (PNG and PDF) in `out`.

    The front figure shows one seed's runs (default: the first seed).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasbench_sim.multiobjective.front import exact_front

    written = []
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, runs in frame.groupby("algorithm", sort=False):
        curves = 1.0 - runs.pivot_table(index="query", columns="seed", values="hypervolume_ratio")
        mean, se = curves.mean(axis=1), curves.std(axis=1, ddof=1) / np.sqrt(curves.shape[1])
        ax.plot(mean.index, mean, label=name)
        ax.fill_between(mean.index, mean - se, mean + se, alpha=0.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("queries")
    ax.set_ylabel("hypervolume shortfall: 1 - found / exact front's")
    ax.set_title(f"{' vs '.join(scoring.names)}: mean and SE over seeds")
    ax.legend()
    for suffix in ("png", "pdf"):
        atomic_write_figure(fig, out / f"hypervolume_vs_queries.{suffix}", dpi=150, bbox_inches="tight")
        written.append(out / f"hypervolume_vs_queries.{suffix}")
    plt.close(fig)
    if len(scoring.names) != 2:  # the front figure is drawn for two objectives
        return written
    seed = int(frame["seed"].min()) if seed is None else seed
    front = scoring.points[exact_front(scoring.points)]
    front = front[np.argsort(front[:, 1], kind="stable")]  # by x: the staircase bounds the dominated region
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.step(front[:, 1], front[:, 0], where="post", color="black", label="exact front")
    for name, runs in frame[frame["seed"] == seed].groupby("algorithm", sort=False):
        points = scoring.points[runs["row"].to_numpy()]
        keep = exact_front(points)
        ax.scatter(points[keep, 1], points[keep, 0], s=14, label=f"{name} (non-dominated found)")
    ax.set_xscale("log")
    ax.set_xlabel(scoring.names[1])
    ax.set_ylabel(scoring.names[0])
    ax.set_title(f"seed {seed}: the cells found against the exact front")
    ax.legend(fontsize=8)
    for suffix in ("png", "pdf"):
        atomic_write_figure(fig, out / f"front.{suffix}", dpi=150, bbox_inches="tight")
        written.append(out / f"front.{suffix}")
    plt.close(fig)
    return written
