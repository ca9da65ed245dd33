"""Statistics of a comparison: summary table, paired tests over seeds, mean ranks.

The unit of analysis is a run's final result (test error of its incumbent in
percent: 100 * (1 - mean-of-3 test accuracy)). Runs are paired by seed: the
Friedman test asks whether the algorithms differ at all, Wilcoxon signed-rank
tests compare every algorithm with the best one (Holm-corrected), and mean
ranks over seeds feed the critical-difference diagram (scikit-posthocs).

Example:
    >>> import pandas as pd
    >>> from nasbench_sim.harness.stats import paired_tests
    >>> final = pd.DataFrame({"algorithm": ["a"] * 8 + ["b"] * 8, "seed": list(range(8)) * 2,
    ...                       "test_error_pct": [5.0 + 0.1 * i for i in range(8)] + [6.0 + 0.1 * i for i in range(8)]})
    >>> result = paired_tests(final)
    >>> result["best"], result["pairwise"]["holm_p"].round(4).tolist()
    ('a', [0.0078])
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from nasbench_sim.harness.styles import label_of


def final_runs(history: pd.DataFrame) -> pd.DataFrame:
    """Last row of every run, with `test_error_pct`, `test_regret_pct` and `repeat0_test_error_pct` added."""
    final = history.sort_values("query").groupby(["algorithm", "seed"], as_index=False).tail(1)
    final = final.assign(
        test_error_pct=100 * (1 - final["incumbent_mean_test"]),
        test_regret_pct=100 * final["test_regret"],
        repeat0_test_error_pct=100 * (1 - final["incumbent_repeat0_test"]),
    )
    return final.reset_index(drop=True)


#: Table kinds whose numbers may be set beside published ones (real NB101 accuracies).
REAL_TABLE_KINDS = ("official", "partial")


def published_applies(meta: Mapping[str, Any] | None) -> bool:
    """True when an experiment's published values are comparable: a real table and the published budget."""
    meta = meta or {}
    proto = meta.get("protocol") or {}
    real = (meta.get("table") or {}).get("kind") in REAL_TABLE_KINDS
    return bool(proto.get("published")) and real and proto.get("published_budget") == meta.get("budget")


def path_repeats(history: pd.DataFrame) -> pd.Series:
    """Queries per run that repeated a cell's input-to-output op paths, mean over runs, per algorithm.

    Empty for histories written before the `path_repeat` column existed.
    """
    if "path_repeat" not in history:
        return pd.Series(dtype=float)
    per_run = history.groupby(["algorithm", "seed"], sort=False)["path_repeat"].sum()
    return per_run.groupby(level="algorithm", sort=False).mean()


def dedup_breaches(history: pd.DataFrame, meta: Mapping[str, Any] | None) -> dict[str, int]:
    """Algorithms whose config declares `dedup="paths"` yet repeated paths: name -> repeats in all runs."""
    if "path_repeat" not in history:
        return {}
    declared = {
        name
        for name, described in ((meta or {}).get("algorithms") or {}).items()
        if isinstance(described.get("config"), Mapping) and described["config"].get("dedup") == "paths"
    }
    counts = history.loc[history["algorithm"].isin(declared)].groupby("algorithm", sort=False)["path_repeat"].sum()
    return {str(name): int(n) for name, n in counts.items() if n > 0}


def paired(final: pd.DataFrame, metric: str = "test_error_pct") -> pd.DataFrame:
    """(seed x algorithm) table of `metric` over the seeds that every algorithm ran."""
    table = final.pivot_table(index="seed", columns="algorithm", values=metric)
    return table.dropna()


def paired_tests(final: pd.DataFrame, metric: str = "test_error_pct") -> dict[str, Any]:
    """Friedman test over algorithms and Holm-corrected Wilcoxon tests against the best, paired by seed.

    Args:
        final: one row per run with `algorithm`, `seed` and `metric` (lower is better).

    Returns:
        dict with `seeds` (paired seeds), `best` (lowest mean), `friedman` (statistic, p)
        or None with fewer than 3 algorithms, `mean_ranks` (Series, 1 = best) and
        `pairwise` (DataFrame: algorithm, mean difference to the best, Wilcoxon p, Holm p).
    """
    table = paired(final, metric)
    out: dict[str, Any] = {"seeds": len(table), "metric": metric}
    if table.shape[1] < 2 or len(table) < 2:
        out.update(best=table.mean().idxmin() if table.shape[1] else None, friedman=None, pairwise=pd.DataFrame())
        out["mean_ranks"] = table.rank(axis=1).mean() if table.shape[1] else pd.Series(dtype=float)
        return out
    best = table.mean().idxmin()
    out["best"] = best
    out["mean_ranks"] = table.rank(axis=1).mean().sort_values()
    if table.shape[1] >= 3:
        result = stats.friedmanchisquare(*[table[c] for c in table.columns])
        out["friedman"] = {"statistic": float(result.statistic), "p": float(result.pvalue)}
    else:
        out["friedman"] = None
    rows = []
    for name in table.columns:
        if name == best:
            continue
        diff = table[name] - table[best]
        with warnings.catch_warnings():  # a handful of seeds: scipy warns and the p-value is NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            p = 1.0 if np.allclose(diff, 0) else float(stats.wilcoxon(table[name], table[best]).pvalue)
        rows.append({"algorithm": name, "mean_difference": float(diff.mean()), "wilcoxon_p": p})
    pairwise = pd.DataFrame(rows)
    if len(pairwise):
        pairwise["holm_p"] = _holm(pairwise["wilcoxon_p"].to_numpy())
    out["pairwise"] = pairwise
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    order = np.argsort(p)
    adjusted = np.empty_like(p, dtype=np.float64)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (len(p) - rank) * p[i])
        adjusted[i] = min(1.0, running)
    return adjusted


def summary_table(history: pd.DataFrame, meta: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per algorithm (best first) with human column headers; numbers in percent.

    Columns: runs, test error (mean, SE, median), test regret, between-realization
    SD of the mean (when the runs used several noise realizations), repeat-0 test
    error, mean rank over common seeds, unique queries, path-equivalent repeats per
    run (histories that record them), search seconds per query,
    simulated training hours and search-overhead seconds per run, and the
    published value and difference when they are comparable (`published_applies`).
    """
    final = final_runs(history)
    tests = paired_tests(final)
    repeats = path_repeats(history)
    proto = (meta or {}).get("protocol") or {}
    published = (proto.get("published") or {}) if published_applies(meta) else {}
    rows = []
    for name, group in final.groupby("algorithm", sort=False):
        n = len(group)
        err = group["test_error_pct"]
        row = {
            "algorithm": label_of(name, meta),
            "runs": n,
            "test error %": err.mean(),
            "± SE": err.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
            "median %": err.median(),
            "test regret %": group["test_regret_pct"].mean(),
        }
        realizations = group["realization"] if "realization" in group else pd.Series(dtype=int)
        if realizations.nunique() > 1:
            row["between-realization SD %"] = group.groupby("realization")["test_error_pct"].mean().std(ddof=1)
        row["repeat-0 test error %"] = group["repeat0_test_error_pct"].mean()
        row["mean rank"] = tests["mean_ranks"].get(name, np.nan)
        row["unique queries"] = group["unique_queries"].mean()
        if name in repeats:
            row["path repeats/run"] = repeats[name]
        runs = history.loc[history["algorithm"] == name]
        row["search s/query"] = runs["search_seconds"].mean()
        # What the search stands for (simulated NB101 training) next to what it cost (ask + tell).
        row["simulated training h/run"] = group["cumulative_time"].mean() / 3600
        if (meta or {}).get("workers") is not None and "end_time" in group:
            row["simulated wall-clock h/run"] = group["end_time"].mean() / 3600
            row["idle worker share"] = idle_share(runs, int(meta["workers"]["count"]))
        row["search overhead s/run"] = runs.groupby("seed")["search_seconds"].sum().mean()
        if name in published:
            row["published %"] = published[name]
            row["difference"] = err.mean() - published[name]
        rows.append(row)
    return pd.DataFrame(rows).sort_values("test error %").reset_index(drop=True)


def idle_share(runs: pd.DataFrame, workers: int) -> float:
    """Mean over runs of the share of worker-seconds idle while the run was still starting queries.

    The window of a run is [0, start of its last query]: after that the budget is spent and
    workers run out of work by design. An asynchronous searcher keeps every worker busy (0);
    synchronous batches idle while a batch's slowest query finishes.

    Example:
        >>> runs = pd.DataFrame({"seed": [0, 0, 0], "start_time": [0.0, 0.0, 4.0], "end_time": [4.0, 2.0, 6.0]})
        >>> idle_share(runs, 2)  # worker 1 idles from 2 s to 4 s: 2 of 8 worker-seconds
        0.25
    """
    shares = []
    for _, run in runs.groupby("seed"):
        window = float(run["start_time"].max())
        busy = float((np.minimum(run["end_time"], window) - run["start_time"]).clip(lower=0).sum())
        shares.append(1.0 - busy / (workers * window) if window > 0 else 0.0)
    return float(np.mean(shares))


def headline(final: pd.DataFrame, meta: Mapping[str, Any] | None = None) -> str:
    """The comparison's answer in one sentence: the best algorithm and whether the differences are significant.

    Example:
        >>> final = pd.DataFrame({"algorithm": ["a"] * 8 + ["b"] * 8, "seed": list(range(8)) * 2,
        ...                       "test_error_pct": [5.0 + 0.1 * i for i in range(8)] + [6.0 + 0.1 * i for i in range(8)]})
        >>> headline(final)
        'a has the lowest mean test error, 5.350% ± 0.087 (SE over 8 seeds), 1.000 points ahead of b (Wilcoxon p = 0.0078).'
    """
    tests = paired_tests(final)
    best = tests.get("best")
    if best is None:
        return "No algorithm has finished runs on common seeds yet."
    errors = final.loc[final["algorithm"] == best, "test_error_pct"]
    se = errors.std(ddof=1) / np.sqrt(len(errors)) if len(errors) > 1 else float("nan")
    text = (
        f"{label_of(best, meta)} has the lowest mean test error, {errors.mean():.3f}% ± {se:.3f} "
        f"(SE over {len(errors)} seeds)"
    )
    pairwise = tests["pairwise"]
    if tests["friedman"] is not None:
        p = tests["friedman"]["p"]
        k = len(tests["mean_ranks"])
        verdict = f"the {k} algorithms differ" if p < 0.05 else f"the Friedman test finds no difference among the {k}"
        text += f"; over {tests['seeds']} paired seeds {verdict} (p = {p:.2g})"
        if p < 0.05 and len(pairwise):
            tied = [label_of(a, meta) for a in pairwise.loc[pairwise["holm_p"] >= 0.05, "algorithm"]]
            text += (
                f", and {', '.join(tied)} {'is' if len(tied) == 1 else 'are'} not significantly worse" if tied else ""
            )
    elif len(pairwise):
        row = pairwise.iloc[0]
        text += (
            f", {row['mean_difference']:.3f} points ahead of {label_of(row['algorithm'], meta)} "
            f"(Wilcoxon p = {row['wilcoxon_p']:.2g})"
        )
    return text + "."


def tests_markdown(final: pd.DataFrame, meta: Mapping[str, Any] | None = None) -> str:
    """The paired tests as Markdown text (Friedman line plus a table of pairwise tests)."""
    tests = paired_tests(final)
    lines = [f"Paired over {tests['seeds']} seeds that every algorithm ran; lower test error is better."]
    if tests["friedman"] is not None:
        f = tests["friedman"]
        lines.append(f"Friedman test over algorithms: chi² = {f['statistic']:.2f}, p = {f['p']:.3g}.")
    if tests.get("best") is not None:
        lines.append(
            f"Best mean test error: {label_of(tests['best'], meta)}. Wilcoxon signed-rank tests against it, Holm-corrected:"
        )
    pairwise = tests["pairwise"]
    if len(pairwise):
        table = pairwise.assign(algorithm=pairwise["algorithm"].map(lambda name: label_of(name, meta))).rename(
            columns={
                "mean_difference": "mean difference (points)",
                "wilcoxon_p": "Wilcoxon p",
                "holm_p": "Holm-adjusted p",
            }
        )
        lines += ["", table.to_markdown(index=False, floatfmt=".3g")]
    return "\n".join(lines)
