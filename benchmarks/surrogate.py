"""Fidelity of the embedded surrogate, and whether it ranks NAS algorithms like the real data; prints JSON.

Usage:
    python benchmarks/surrogate.py [--real results/partial-all-150] [--surrogate results/surrogate-rs-re-np-150]
                                   [--out results/surrogate_vs_real.png]

Prints the shipped model's held-out fidelity (recomputed from the real data
when `../shared` is present), and, given two experiment folders (one on the
real partial table, one on the surrogate), the mean final test regret per
algorithm on the seeds both share, whether the orderings agree, and a
side-by-side plot of the regret curves.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", default="results/partial-all-150")
    parser.add_argument("--surrogate", default="results/surrogate-rs-re-np-150")
    parser.add_argument("--out", default="results/surrogate_vs_real.png")
    args = parser.parse_args()

    from nasbench_sim.bench.embedded_surrogate import fidelity, holdout_rows, load_embedded
    from nasbench_sim.bench.features import space_features
    from nasbench_sim.bench.sources import repeat0_path
    from nasbench_sim.space.cellspace import CellSpace

    model = load_embedded()
    result: dict = {"shipped_fidelity": model.meta["fidelity"], "fit_seconds": model.meta["fit_seconds"]}
    real_path = repeat0_path()
    if real_path is not None:
        space = CellSpace.load_or_build(progress=False)
        hold = holdout_rows(model, len(space))
        result["recomputed_fidelity"] = fidelity(
            model.predict_features(space_features(space)[hold]), np.load(real_path)[hold]
        )

    if Path(args.real, "metadata.json").exists() and Path(args.surrogate, "metadata.json").exists():
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from nasbench_sim.harness.stats import final_runs
        from nasbench_sim.harness.store import load_experiment
        from nasbench_sim.harness.styles import style_of

        real, meta = load_experiment(args.real)
        surr, _ = load_experiment(args.surrogate)
        algos = [a for a in dict.fromkeys(surr["algorithm"]) if a in set(real["algorithm"])]
        seeds = sorted(set(real["seed"]) & set(surr["seed"]))
        comparison = {}
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=False)
        for ax, (name, hist) in zip(
            axes, (("real partial table", real), ("SURROGATE table (modelled)", surr)), strict=True
        ):
            hist = hist[hist["algorithm"].isin(algos) & hist["seed"].isin(seeds)]
            final = final_runs(hist)
            stats = {}
            for algo in algos:
                regret = 100 * final.loc[final["algorithm"] == algo, "test_regret"].to_numpy()
                stats[algo] = {
                    "mean_final_test_regret_pct": round(float(regret.mean()), 4),
                    "se": round(float(regret.std(ddof=1) / np.sqrt(regret.size)), 4),
                }
                curves = hist[hist["algorithm"] == algo].pivot(index="seed", columns="query", values="test_regret")
                mean = 100 * curves.mean().to_numpy()
                se = 100 * curves.std(ddof=1).to_numpy() / np.sqrt(len(curves))
                style = style_of(algo, meta)
                ax.plot(curves.columns, mean, color=style["color"], label=style["label"])
                ax.fill_between(curves.columns, mean - se, mean + se, color=style["color"], alpha=0.2, lw=0)
            ax.set(
                yscale="log",
                xlabel="queries",
                ylabel="test regret of incumbent (%)",
                title=f"{name}, {len(seeds)} seeds",
            )
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=8)
            comparison[name] = stats
        fig.tight_layout()
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.out, dpi=150)
        orders = {
            name: sorted(stats, key=lambda a: stats[a]["mean_final_test_regret_pct"])
            for name, stats in comparison.items()
        }
        result.update(
            {
                "seeds": [seeds[0], seeds[-1]],
                "final_regret": comparison,
                "ordering": orders,
                "orderings_agree": len({tuple(o) for o in orders.values()}) == 1,
                "plot": args.out,
            }
        )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
