"""Reproduce a published NB101 comparison and set the measured numbers beside the published ones.

`reproduce_bananas` runs every algorithm of the BANANAS paper's NAS-Bench-101
table that this package has (random search, regularized evolution, GP-BO, TPE,
local search, BANANAS, REINFORCE, MCTS for AlphaX) plus NP-NAS, under the
`naszilla` protocol, and writes
`reproduce.md` and `reproduce.json`: published test error, measured mean ±
SE, the between-realization SD of the mean (the modelled fields of the
partial table are one of several noise realizations) and the difference.

Example:
    >>> from nasbench_sim.harness.reproduce import reproduce_bananas
    >>> reproduce_bananas(seeds="0-199", workers=2)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim._io import atomic_write_bytes, atomic_write_json
from nasbench_sim.bench.table import SINGLE_REPEAT_KINDS
from nasbench_sim.harness.experiment import compare
from nasbench_sim.harness.plots import plot_experiment
from nasbench_sim.harness.protocol import NASZILLA
from nasbench_sim.harness.stats import final_runs, headline, tests_markdown
from nasbench_sim.search.registry import label, resolve

#: The BANANAS table's algorithms that this package has, plus NP-NAS. BOHB is left out: a query
#: budget counts its short trainings as full queries, which is not the paper's accounting.
BANANAS_ALGORITHMS = ("rs", "re", "gp", "tpe", "ls", "bananas", "reinforce", "mcts", "np")
#: Secondary rows: other readings of a reference implementation (name -> algorithm, settings).
BANANAS_VARIANTS: Mapping[str, tuple[str, dict[str, Any]]] = {
    "ls-restarts": ("ls", {"restart": True}),  # naszilla's local_search() default: restart at a local optimum
}


def reproduction_table(frame: pd.DataFrame, published: Mapping[str, float], names: Mapping[str, str]) -> pd.DataFrame:
    """Published vs measured test error (%) per algorithm.

    Args:
        frame: histories of a comparison (`compare`'s frame; may hold several experiments).
        published: algorithm -> published mean test error in percent.
        names: frame's algorithm column value -> row label.

    Returns:
        One row per algorithm: runs, measured mean and SE, between-realization SD of the
        per-realization means, published value and difference (measured - published).
    """
    final = final_runs(frame)
    rows = []
    for key, group in final.groupby("algorithm", sort=False):
        err = group["test_error_pct"]
        per_realization = group.groupby("realization")["test_error_pct"].mean()
        base = key.split(":")[0]
        row = {
            "algorithm": names.get(key, label(key)),
            "runs": len(group),
            "measured %": float(err.mean()),
            "SE": float(err.std(ddof=1) / np.sqrt(len(err))) if len(err) > 1 else float("nan"),
            "between-realization SD": float(per_realization.std(ddof=1)) if len(per_realization) > 1 else float("nan"),
            "published %": published.get(base, float("nan")),
        }
        row["difference"] = row["measured %"] - row["published %"]
        rows.append(row)
    return pd.DataFrame(rows).sort_values("measured %").reset_index(drop=True)


def reproduce_bananas(
    *,
    seeds: str | Sequence[int] = "0-199",
    algorithms: Any = None,
    table: str | None = None,
    realizations: int | None = None,
    workers: int = 1,
    results: str | os.PathLike = "results",
    device: str = "auto",
    progress: bool = True,
    queries: int = 150,
) -> Path:
    """Run the comparison (resumable) and write `reproduce.md` / `reproduce.json`; returns the `.md` path.

    Args:
        seeds: seeds of every algorithm (the paper: 200 trials).
        algorithms: what to run (default: `BANANAS_ALGORITHMS`, plus the variants): any of them and
            any other algorithm `compare` accepts (a plugin's name, `'module:Class'`, a class, a
            mapping); algorithms the paper lacks get rows without a published number.
        table: 'partial' (default) or another table (e.g. 'official' once converted).
        realizations: noise realizations of the partial table (default `config_file.DEFAULT_REALIZATIONS`).
        workers: local processes.
        results: parent folder of the experiment.
        device: torch device of the model-based searchers.
        progress: progress bars.
        queries: queries per run (the paper: 150; fewer only for quick checks).
    """
    specs = resolve(algorithms if algorithms is not None else ",".join(BANANAS_ALGORITHMS))
    chosen = list(specs)
    table = table or "partial"
    kind = Path(str(table)).name.replace(".", "-")
    common = {"table": table, "protocol": NASZILLA.name, "realizations": realizations, "workers": workers}
    common |= {"results": results, "device": device, "progress": progress}
    main = compare(specs, seeds, queries, experiment=f"reproduce-bananas-{kind}", **common)
    frames, names = [main], {name: spec.label for name, spec in specs.items()}
    for variant, (base, settings) in BANANAS_VARIANTS.items():
        if base in chosen:
            extra = compare(
                [base], seeds, 150, configs={base: settings}, experiment=f"reproduce-bananas-{kind}-{variant}", **common
            )
            key = f"{base}:{variant}"
            frames.append(extra.assign(algorithm=key))
            names[key] = f"{label(base)} ({variant.split('-', 1)[1]})"
    folder = Path(main.attrs["folder"])
    plot_experiment(folder)
    frame = pd.concat(frames, ignore_index=True)
    table_frame = reproduction_table(frame, NASZILLA.published, names)
    if main.attrs.get("table_kind") in SINGLE_REPEAT_KINDS:  # another quantity than the published one
        table_frame = table_frame.drop(columns=["published %", "difference"], errors="ignore")
    optimum = float((main["incumbent_mean_test"] + main["test_regret"]).median())
    summary = {
        "protocol": NASZILLA.describe(),
        "table": str(table),
        "seeds": sorted(set(main["seed"])),
        "queries": queries,
        "table_optimum_test_error_pct": 100 * (1 - optimum),
        "published_optimum_test_error_pct": NASZILLA.published_optimum_error,
        "rows": json.loads(table_frame.to_json(orient="records", double_precision=15)),
    }
    atomic_write_json(folder / "reproduce.json", summary)
    meta = {"algorithms": {n: {"style": {"label": lbl}} for n, lbl in names.items()}}
    compared = table_frame.dropna(subset=["difference"]) if "difference" in table_frame else table_frame.iloc[:0]
    lead = headline(final_runs(main), meta)
    if len(compared):
        low, high = compared.loc[compared["difference"].idxmin()], compared.loc[compared["difference"].idxmax()]
        lead += (
            f" Measured minus published runs from {low['difference']:+.3f} ({low['algorithm']}) to "
            f"{high['difference']:+.3f} ({high['algorithm']}) points."
        )
    lines = [
        "# Reproducing the BANANAS paper's NAS-Bench-101 table",
        "",
        f"**{lead}**",
        "",
        f"Protocol `naszilla` ({NASZILLA.description}); {len(summary['seeds'])} seeds x {queries} queries; "
        f"table: {main.attrs.get('table_label', table)}.",
        (
            "Test error (%) of the incumbent: its real repeat-0 test error, the value the searcher saw (one "
            "repeat, no validation split: not the published quantity, a mean of 3 with validation seen). "
            if main.attrs.get("table_kind") in SINGLE_REPEAT_KINDS
            else "Test error (%) of the incumbent's mean over the 3 training repeats. "
        )
        + f"Table optimum {summary['table_optimum_test_error_pct']:.3f}% "
        f"(published optimum {NASZILLA.published_optimum_error}%).",
        f"Published: {NASZILLA.published_source}.",
        "",
        table_frame.to_markdown(index=False, floatfmt=".3f"),
        "",
        tests_markdown(final_runs(main), meta),
        "",
    ]
    path = folder / "reproduce.md"
    atomic_write_bytes(path, "\n".join(lines).encode())
    return path


#: The NP-NAS re-test: NP-NAS against RE and BANANAS, and its ablations (name -> algorithm, settings).
NP_ABLATIONS: Mapping[str, tuple[str, dict[str, Any]]] = {
    "np-beta0": ("np", {"beta": 0.0}),  # UCB with beta = 0: the model's mean alone
    "np-random-score": ("np", {"acquisition": "random"}),  # the same pool, scored at random
    # BANANAS' best variant on the tuning seeds (the same tuning budget as NP-NAS: benchmarks/tuning.py)
    "bananas-tuned": ("bananas", {"encoding": "adjacency"}),
}


def retest_np_nas(
    *,
    seeds: str | Sequence[int] = "0-199",
    table: str | None = None,
    realizations: int | None = None,
    workers: int = 1,
    results: str | os.PathLike = "results",
    device: str = "auto",
    progress: bool = True,
    queries: int = 150,
) -> Path:
    """NP-NAS vs RE and BANANAS under `naszilla`, paired by seed, with NP-NAS's ablations.

    Reuses the runs of `reproduce_bananas` (same experiment folder) and adds the
    ablations. Writes `np_nas.md` / `np_nas.json` there: Wilcoxon signed-rank
    tests of NP-NAS against each other searcher (Holm-corrected), mean paired
    differences, and the ablations' errors. Returns the `.md` path.
    """
    table = table or "partial"
    kind = Path(str(table)).name.replace(".", "-")
    common = {"table": table, "protocol": NASZILLA.name, "realizations": realizations, "workers": workers}
    common |= {"results": results, "device": device, "progress": progress}
    main = compare(["np", "re", "bananas", "rs"], seeds, queries, experiment=f"reproduce-bananas-{kind}", **common)
    frames = [main]
    for name, (base, settings) in NP_ABLATIONS.items():
        extra = compare([base], seeds, queries, configs={base: settings}, experiment=f"{name}-{kind}", **common)
        frames.append(extra.assign(algorithm=name))
    final = final_runs(pd.concat(frames, ignore_index=True))
    table_np = final.pivot_table(index="seed", columns="algorithm", values="test_error_pct").dropna()
    from scipy import stats as scipy_stats

    from nasbench_sim.harness.stats import _holm

    realization = (
        final.groupby("seed")["realization"].first().reindex(table_np.index) if "realization" in final else None
    )
    several = realization is not None and realization.nunique() > 1
    rows = []
    for other in [c for c in table_np.columns if c != "np"]:
        diff = table_np["np"] - table_np[other]
        per_world = diff.groupby(realization).mean() if several else None
        rows.append(
            {
                "comparison": f"NP-NAS vs {label(other) if other in BANANAS_ALGORITHMS else other}",
                "seeds": len(diff),
                "mean difference (points)": float(diff.mean()),
                "SE": float(diff.std(ddof=1) / np.sqrt(len(diff))),
                "between-realization SD": float(per_world.std(ddof=1)) if several else float("nan"),
                "NP-NAS better on": f"{int((diff < 0).sum())} of {len(diff)} seeds",
                "Wilcoxon p": float(scipy_stats.wilcoxon(table_np["np"], table_np[other]).pvalue),
            }
        )
    tests = pd.DataFrame(rows)
    tests["Holm-adjusted p"] = _holm(tests["Wilcoxon p"].to_numpy())
    errors = final.groupby("algorithm")["test_error_pct"].agg(["mean", "sem", "count"]).reset_index()
    folder = Path(main.attrs["folder"])
    atomic_write_json(
        folder / "np_nas.json",
        {
            "tests": json.loads(tests.to_json(orient="records", double_precision=15)),
            "errors": json.loads(errors.to_json(orient="records", double_precision=15)),
        },
    )
    closest = tests.loc[tests["mean difference (points)"].idxmax()]
    verdict = "better" if closest["mean difference (points)"] < 0 else "not better"
    lead = (
        f"NP-NAS has a lower mean test error than every other searcher and ablation here; against the closest, "
        f"{closest['comparison'].removeprefix('NP-NAS vs ')}, it differs by {closest['mean difference (points)']:+.3f} "
        f"± {closest['SE']:.3f} points (Holm-adjusted p = {closest['Holm-adjusted p']:.2g})."
        if verdict == "better"
        else f"NP-NAS does not have the lowest mean test error: {closest['comparison'].removeprefix('NP-NAS vs ')} "
        f"is lower by {closest['mean difference (points)']:.3f} ± {closest['SE']:.3f} points "
        f"(Holm-adjusted p = {closest['Holm-adjusted p']:.2g})."
    )
    lines = [
        "# NP-NAS re-tested under the naszilla protocol",
        "",
        f"**{lead}**",
        "",
        "Paired by seed (the same noise realization and random streams per seed); negative differences favour NP-NAS. "
        "Between-realization SD: the SD of the mean difference over the table's noise realizations (each seed uses "
        "one), how far the modelled fields alone move it; NaN in a single-world table.",
        "",
        tests.to_markdown(index=False, floatfmt=".4g"),
        "",
        "Mean test error (%) of every searcher and ablation:",
        "",
        errors.rename(columns={"mean": "test error %", "sem": "SE", "count": "runs"}).to_markdown(
            index=False, floatfmt=".3f"
        ),
        "",
    ]
    path = folder / "np_nas.md"
    atomic_write_bytes(path, "\n".join(lines).encode())
    return path
