"""Are a table's modelled training repeats exchangeable with the real one? Statistics of one repeat's values.

NB101's three training repeats are exchangeable, so in the partial table every
statistic of a modelled repeat (1 or 2) should match the real repeat 0's, above
all at the top, where NAS operates. `repeat_statistics` summarises one
repeat's 108-epoch test accuracies over the space: cells above thresholds,
quantiles of the top 1,000, the distribution per band of the structural level
(the embedded surrogate's prediction), the correlation between random
mutation pairs, and the share of a top-1% cell's one-edit neighbours that are
top-1% too. `compare_repeats` sets each modelled repeat's statistics beside the
real one's as ratios (`bench.model_tail` gives what the noise model expects of
them). `benchmarks/exchangeability.py` runs them over the noise realizations.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.bench.exchangeability import counts_above
    >>> counts_above(np.array([0.93, 0.939, 0.941, 0.95]), (0.935, 0.94))
    {'0.935': 3, '0.94': 2}
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_sim.space.cellspace import CellSpace
from nasbench_sim.space.sampling import mutate, neighbours

#: Accuracy thresholds of the tail counts (fractions).
THRESHOLDS = (0.935, 0.938, 0.940, 0.942)
#: Bands of the structural level (fractions).
LEVEL_BANDS = (0.0, 0.85, 0.88, 0.90, 0.92, 0.93, 1.0)


def counts_above(values: np.ndarray, thresholds: Sequence[float] = THRESHOLDS) -> dict[str, int]:
    """Cells whose value exceeds each threshold (keys: the thresholds as text)."""
    return {f"{t:g}": int((values > t).sum()) for t in thresholds}


def mutation_pairs(space: CellSpace, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) rows: each of `rows` and one random mutation of it (the NB101 mutation, `space.sampling.mutate`)."""
    children = space.indices([mutate(space.cell(int(r)), rng) for r in rows.tolist()])
    return np.stack([rows, children], axis=1)


def neighbour_rows(space: CellSpace, rows: np.ndarray) -> dict[int, np.ndarray]:
    """Row -> rows of all its one-edit neighbours (`space.sampling.neighbours`)."""
    return {int(r): space.indices(neighbours(space.cell(int(r)))) for r in rows.tolist()}


def repeat_statistics(
    values: np.ndarray, level: np.ndarray, pairs: np.ndarray, around: dict[int, np.ndarray]
) -> dict[str, Any]:
    """Statistics of one repeat's values (see the module docstring).

    Args:
        values: (N,) the repeat's final test accuracy at 108 epochs per space row.
        level: (N,) the structural level per row.
        pairs: (n, 2) mutation pairs of rows (`mutation_pairs`), the same for every repeat compared.
        around: neighbours of (at least) this repeat's top-1% rows (`neighbour_rows`).
    """
    top = np.sort(values)[-1000:]
    cut = np.quantile(values, 0.99)
    tops = np.flatnonzero(values >= cut)
    shares = [float((values[around[int(r)]] >= cut).mean()) for r in tops.tolist() if len(around.get(int(r), ()))]
    bands = {}
    for low, high in itertools.pairwise(LEVEL_BANDS):
        members = values[(level >= low) & (level < high)]
        empty = members.size == 0
        bands[f"{low:g}-{high:g}"] = {
            "cells": int(members.size),
            "mean": float("nan") if empty else float(members.mean()),
            "sd": float("nan") if empty else float(members.std()),
            "q99": float("nan") if empty else float(np.quantile(members, 0.99)),
        }
    return {
        "counts_above": counts_above(values),
        "best": float(values.max()),
        "top1000_quantiles": {f"{q:g}": float(np.quantile(top, q)) for q in (0.0, 0.5, 0.9, 0.99)},
        "q999": float(np.quantile(values, 0.999)),
        "neighbour_correlation": float(np.corrcoef(values[pairs[:, 0]], values[pairs[:, 1]])[0, 1]),
        "top1pct_neighbours_top1pct": float(np.mean(shares)) if shares else float("nan"),
        "level_bands": bands,
    }


def compare_repeats(real: dict[str, Any], modelled: dict[str, Any]) -> dict[str, float]:
    """Ratios modelled / real of the tail counts, and the differences of the other headline statistics."""
    out = {f"count_ratio_above_{k}": modelled["counts_above"][k] / max(v, 1) for k, v in real["counts_above"].items()}
    for key in ("best", "q999", "neighbour_correlation", "top1pct_neighbours_top1pct"):
        out[f"{key}_difference"] = modelled[key] - real[key]
    return out


def counts_between_worlds(real: dict[str, Any], worlds: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """The real tail counts against their spread over modelled worlds (`repeat_statistics` of each).

    Per threshold: the modelled worlds' mean count and between-world SD, where the real count lies
    in SDs from that mean (the searches' criterion), and sqrt(real count), the SD a count of that
    size has by chance alone (Poisson), which no model can remove.
    """
    out = {}
    for key, count in real["counts_above"].items():
        values = np.array([w["counts_above"][key] for w in worlds], dtype=float)
        sd = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
        out[key] = {
            "real": int(count),
            "modelled_mean": float(values.mean()),
            "between_world_sd": sd,
            "real_in_sd": float((count - values.mean()) / sd) if sd > 0 else float("nan"),
            "chance_sd": float(np.sqrt(count)),
        }
    return out
