"""The lab's figure: each estimator's Kendall tau (range over seeds) against its amortised cost per query.

Example:
    >>> import pandas as pd
    >>> from nasbench_sim.lab.figures import tau_cost_figure
    >>> table = pd.DataFrame({"estimator": ["full training (reference)", "cheap"], "kendall_tau": [0.8, 0.5],
    ...                       "tau_seed_min": [0.7, 0.3], "tau_seed_max": [0.9, 0.7],
    ...                       "amortised_seconds_per_query": [100.0, 1.0]})
    >>> fig = tau_cost_figure(table)
    >>> fig.axes[0].get_xscale()
    'log'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.activesel.figures import TAU_AXIS_LABEL, TAU_BOUND, pyplot

#: Smallest cost shown (seconds): an estimator that costs nothing is drawn at this floor.
COST_FLOOR = 1e-3


def tau_cost_figure(table: pd.DataFrame) -> Any:
    """Scatter of tau (bars: lowest to highest seed's tau) against amortised seconds per query; the
    first row (full training) is the ceiling, drawn as a dashed line."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ceiling = float(table["kendall_tau"].iloc[0])
    cost = np.maximum(table["amortised_seconds_per_query"].to_numpy(dtype=float), COST_FLOOR)
    tau = table["kendall_tau"].to_numpy(dtype=float)
    low = np.nan_to_num(table["tau_seed_min"].to_numpy(dtype=float), nan=tau)
    high = np.nan_to_num(table["tau_seed_max"].to_numpy(dtype=float), nan=tau)
    bars = [np.nan_to_num(np.maximum(tau - low, 0)), np.nan_to_num(np.maximum(high - tau, 0))]
    ax.errorbar(cost, tau, yerr=bars, fmt="o", capsize=3, label="mean over seeds (bar: lowest to highest seed)")
    for x, y, name in zip(cost, tau, table["estimator"], strict=True):
        if np.isfinite(y):
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    ax.axhline(ceiling, ls="--", color="grey", lw=1, label=f"full-vs-full ceiling ({ceiling:.2f})")
    ax.set(
        xscale="log",
        ylim=(-TAU_BOUND, TAU_BOUND),
        xlabel="amortised cost per query (seconds, log scale)",
        ylabel=TAU_AXIS_LABEL,
        title="Which estimators keep the ranking, at what cost",
    )
    ax.legend(loc="lower left", fontsize=8)
    return fig
