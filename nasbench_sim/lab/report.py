"""The lab's report: every estimator's ranking agreement with full training, its pick and its cost.

Each estimator's scores of the candidates at seed a are set against the
study's full-data test accuracies at seed b != a (`activesel.agreement`): Kendall
tau with a 95% t-interval over the estimator's seeds (each seed's tau averaged
over the other seeds; undefined with fewer than 2), Spearman, top-k overlap, and
the full-data accuracy of the cell it ranks first. The ceiling is the study's
full-data row (two full runs that differ only in seed). Cost per candidate:
SGD steps and the seconds a search pays per query; fixed costs paid once per
search (the supernet, a selection regime's reference models) are amortised
over `LabConfig.queries` queries; the speed-up is full training's seconds per
candidate over the estimator's amortised seconds. The t-interval is clipped to
[-1, 1]. A trained parent is not
charged to `inherit`: in a morphism search the parent is an earlier query.

Example:
    >>> from nasbench_sim.lab.report import confidence_interval
    >>> [round(v, 3) for v in confidence_interval([0.5, 0.7])]
    [0.6, -0.671, 1.871]
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from nasbench_sim._io import atomic_write_bytes, atomic_write_json
from nasbench_sim.activesel.agreement import agreement
from nasbench_sim.activesel.figures import save_figure
from nasbench_sim.activesel.layout import load_results, read_record
from nasbench_sim.activesel.stats import reference_cost
from nasbench_sim.errors import DataFormatError
from nasbench_sim.lab.config import ESTIMATORS, LabConfig
from nasbench_sim.lab.figures import tau_cost_figure
from nasbench_sim.lab.layout import LabLayout

REFERENCE = "full training (reference)"


def confidence_interval(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of a t-interval over `values` (NaN bounds with fewer than 2 finite values)."""
    finite = np.array([v for v in values if np.isfinite(v)], dtype=float)
    if len(finite) == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(finite.mean())
    if len(finite) < 2:
        return (mean, math.nan, math.nan)
    half = float(stats.t.ppf(0.5 + level / 2, len(finite) - 1) * finite.std(ddof=1) / math.sqrt(len(finite)))
    return (mean, mean - half, mean + half)


def study_rows(config: LabConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows, full): the study's regimes as estimator rows, and its (cells, seeds) full-data test accuracy (%)."""
    runs, references = load_results(config.study.out)
    runs = runs[runs["epochs"] == config.study.training.epochs]
    full = runs[runs["regime"] == "full"].pivot(index="cell_index", columns="seed", values="test_accuracy") * 100
    rows = pd.DataFrame(
        {
            "estimator": [REFERENCE if r == "full" else f"data subset: {r}" for r in runs["regime"]],
            "seed": runs["seed"],
            "cell_index": runs["cell_index"],
            "score": runs["validation_accuracy"],
            "steps": runs["steps"],
            "seconds": runs["train_seconds"] + runs["validation_seconds"],
            "fixed_steps": [
                reference_cost(references, r, s, steps=True) for r, s in zip(runs["regime"], runs["seed"], strict=False)
            ],
            "fixed_seconds": [
                reference_cost(references, r, s) for r, s in zip(runs["regime"], runs["seed"], strict=False)
            ],
        }
    )
    return rows, full


def lab_rows(config: LabConfig) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """(rows, records): one row per (estimator label, seed, cell) of the lab's finished records."""
    layout = LabLayout(config.out)
    records = [r for r in map(read_record, sorted(layout.runs.rglob("*.json"))) if r is not None]
    rows = [
        row | {"seed": r["seed"], "cell_index": r["cell_index"]}
        for r in records
        for row in r.get("rows", [])
        if row["estimator"].split(":")[0] in config.estimators
    ]
    return pd.DataFrame(rows), records


def estimator_table(rows: pd.DataFrame, full: pd.DataFrame, queries: int) -> pd.DataFrame:
    """One row per estimator label: agreement, pick and cost (see module docstring); the reference first."""
    full_seconds = float(rows.loc[rows["estimator"] == REFERENCE, "seconds"].mean())
    out = []
    for label, group in rows.groupby("estimator", sort=False):
        scores = group.pivot(index="cell_index", columns="seed", values="score")
        found = agreement(scores, full)
        per_seed = np.array(list(found["tau_by_seed"].values()), dtype=float)
        _, low, high = confidence_interval(list(per_seed))
        low, high = (float(np.clip(v, -1.0, 1.0)) for v in (low, high))  # a tau lies in [-1, 1]
        fixed_seconds = float(group.groupby("seed")["fixed_seconds"].first().mean())
        fixed_steps = float(group.groupby("seed")["fixed_steps"].first().mean())
        amortised = float(group["seconds"].mean()) + fixed_seconds / queries
        out.append(
            {
                "estimator": label,
                "cells": int(scores.notna().all(axis=1).sum()),
                "seeds": int(scores.shape[1]),
                "kendall_tau": found["kendall_tau"],
                "tau_ci_low": low,
                "tau_ci_high": high,
                "tau_seed_min": float(np.nanmin(per_seed)) if np.isfinite(per_seed).any() else math.nan,
                "tau_seed_max": float(np.nanmax(per_seed)) if np.isfinite(per_seed).any() else math.nan,
                "spearman": found["spearman"],
                "top_k": found["top_k"],
                "top_k_overlap": found["top_k_overlap"],
                "pick_full_pct": found["pick_full_pct"],
                "best_full_pct": found["best_full_pct"],
                "steps_per_cell": float(group["steps"].mean()),
                "seconds_per_cell": float(group["seconds"].mean()),
                "fixed_steps_per_search": fixed_steps,
                "fixed_seconds_per_search": fixed_seconds,
                "amortised_steps_per_query": float(group["steps"].mean()) + fixed_steps / queries,
                "amortised_seconds_per_query": amortised,
                "speedup_amortised": full_seconds / amortised if amortised > 0 else math.inf,
            }
        )
    table = pd.DataFrame(out)
    reference = table[table["estimator"] == REFERENCE]
    others = table[table["estimator"] != REFERENCE].sort_values("kendall_tau", ascending=False, na_position="last")
    return pd.concat([reference, others], ignore_index=True)


def answer(table: pd.DataFrame) -> str:
    """The report's first sentence: the best-ranking estimator and the cheapest one near the ceiling."""
    ceiling = float(table.loc[table["estimator"] == REFERENCE, "kendall_tau"].iloc[0])
    others = table[(table["estimator"] != REFERENCE) & table["kendall_tau"].notna()]
    if others.empty:
        return "No estimator has a defined Kendall tau yet."
    best = others.iloc[0]
    near = others[others["kendall_tau"] >= ceiling - 0.1].sort_values("amortised_seconds_per_query")
    text = (
        f"{best['estimator']} ranks the {best['cells']} cells best among {len(others)} estimators "
        f"(Kendall tau {best['kendall_tau']:.2f} against full training's ceiling of {ceiling:.2f}, "
        f"amortised speed-up {best['speedup_amortised']:.3g}x)"
    )
    if near.empty:
        return text + "; no estimator comes within 0.1 of the ceiling."
    cheap = near.iloc[0]
    return text + (
        f"; the cheapest within 0.1 of the ceiling is {cheap['estimator']} "
        f"(tau {cheap['kendall_tau']:.2f}, speed-up {cheap['speedup_amortised']:.3g}x)."
    )


def _fmt(value: float, spec: str) -> str:
    return "—" if value is None or not np.isfinite(value) else format(value, spec)


def markdown(table: pd.DataFrame, notes: list[str], queries: int) -> str:
    lines = [
        answer(table),
        "",
        f"| estimator | Kendall tau (95% CI over seeds) | Spearman | top-k overlap | pick's full-data test % "
        f"| SGD steps / cell | seconds / cell | fixed seconds / search | speed-up amortised over {queries} queries |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for _, r in table.iterrows():
        ci = (
            f" ({_fmt(r['tau_ci_low'], '.2f')} to {_fmt(r['tau_ci_high'], '.2f')})"
            if np.isfinite(r["tau_ci_low"])
            else ""
        )
        lines.append(
            f"| {r['estimator']} | {_fmt(r['kendall_tau'], '.2f')}{ci} | {_fmt(r['spearman'], '.2f')} "
            f"| {_fmt(r['top_k_overlap'], '.2f')} | {_fmt(r['pick_full_pct'], '.2f')} | {r['steps_per_cell']:.0f} "
            f"| {r['seconds_per_cell']:.2f} | {r['fixed_seconds_per_search']:.0f} | {_fmt(r['speedup_amortised'], '.3g')}x |"
        )
    lines += ["", f"Best cell's full-data test accuracy: {table['best_full_pct'].iloc[0]:.2f}%.", ""]
    lines += ["![Kendall tau against amortised cost](tau_vs_cost.png)", ""]
    lines += [f"- {n}" for n in notes]
    lines += ["", "Estimators:", ""] + [f"- `{k}`: {v}" for k, v in ESTIMATORS.items()]
    return "\n".join(lines) + "\n"


def _notes(records: list[dict[str, Any]], rows: pd.DataFrame) -> list[str]:
    notes = []
    inherit = [r for r in records if r.get("kind") == "inherit"]
    if inherit:
        share = np.mean([r["inherited_share"] for r in inherit])
        notes.append(f"inherit: {100 * share:.0f}% of the child's values come from its parent on average.")
        paired = rows[rows["estimator"].isin(["inherit", "epoch-fraction"])]
        wide = paired.pivot_table(index=["seed", "cell_index"], columns="estimator", values="score").dropna()
        if {"inherit", "epoch-fraction"} <= set(wide.columns) and len(wide):
            gap = 100 * (wide["inherit"] - wide["epoch-fraction"])
            notes.append(
                f"inherit vs the same child from scratch with the same steps (epoch-fraction): "
                f"{gap.mean():+.2f} points of validation accuracy on average over {len(gap)} cell-seed pairs."
            )
    curves = [r for r in records if r.get("kind") == "early-stop"]
    if curves:
        fitted = sum(bool(r["fit"]["fitted"]) for r in curves)
        rest = " (the rest predict their last point)" if fitted < len(curves) else ""
        notes.append(f"curve: pow3 fitted {fitted} of {len(curves)} curves{rest}.")
    return notes


def write_lab_report(config: LabConfig) -> dict[str, Any]:
    """Write report.md, lab.json, estimators.csv and tau_vs_cost.png into the lab folder; returns the JSON summary.

    Raises:
        DataFormatError: the study has no finished full-data runs.
    """
    study, full = study_rows(config)
    if full.empty:
        raise DataFormatError(f"{config.study.out}: no finished full-data runs to compare with")
    mine, records = lab_rows(config)
    rows = pd.concat([study, mine], ignore_index=True) if len(mine) else study
    table = estimator_table(rows, full, config.queries)
    notes = _notes(records, rows)
    layout = LabLayout(config.out)
    text = markdown(table, notes, config.queries)
    atomic_write_bytes(layout.root / "report.md", text.encode())
    atomic_write_bytes(layout.root / "estimators.csv", table.to_csv(index=False).encode())
    save_figure(tau_cost_figure(table), layout.root / "tau_vs_cost.png")
    summary = {
        "answer": answer(table),
        "queries": config.queries,
        "estimators": json.loads(table.to_json(orient="records")),
        "notes": notes,
        "identity": config.identity(),
    }
    atomic_write_json(layout.root / "lab.json", summary)
    return summary
