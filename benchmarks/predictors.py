"""Performance predictors on the real repeat-0 labels: Kendall tau and friends against the training-set size; JSON.

Usage:
    python benchmarks/predictors.py [--models np,gp,mlp,rf,hgb] [--sizes 20,50,100,200,500,1000] [--seeds 5]
        [--test-size 1000] [--table partial] [--device cpu] [--figure docs/figures/predictors_kendall.png]

Each model (`nasbench_sim.estimators.predictors`) is trained on n cells drawn
uniformly from NB101 with their 108-epoch test accuracy of training repeat 0 as
the label (real in the partial table) and scored on a random and a
mutation-neighbourhood test set: MAE (percentage points), Spearman, Kendall
tau, precision at top 10 / 20, mean and SE over seeds. Writes the figure of
Kendall tau against n per model (one panel per test set) and prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def figure(summary, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasbench_sim._io import atomic_write_figure

    sets = list(dict.fromkeys(summary["test_set"]))
    fig, axes = plt.subplots(1, len(sets), figsize=(5.2 * len(sets), 3.8), squeeze=False, sharey=True)
    for ax, test_set in zip(axes[0], sets, strict=True):
        part = summary[summary["test_set"] == test_set]
        for label, group in part.groupby("label", sort=False):
            ax.errorbar(
                group["n"], group["kendall"], yerr=group["kendall_se"], marker="o", ms=4, capsize=2, label=label
            )
        ax.set(xscale="log", xlabel="training cells n", title=f"{test_set} test cells")
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("Kendall tau (mean ± SE over seeds)")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    atomic_write_figure(fig, path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    from nasbench_sim.bench import Oracle, open_table
    from nasbench_sim.estimators.predictors import METRICS, evaluate_predictors, predictors
    from nasbench_sim.space.cellspace import CellSpace

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="np,gp,mlp,rf,hgb")
    parser.add_argument("--sizes", default="20,50,100,200,500,1000")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--table", default="partial")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--figure", default="docs/figures/predictors_kendall.png")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    space = CellSpace.load_or_build(progress=False)
    table = open_table(args.table, progress=False)
    accuracy = Oracle(table, np.random.default_rng(0), space=space).repeat_values("test_accuracy", 0)
    models = predictors([m.strip() for m in args.models.split(",") if m.strip()], device=args.device)
    sizes = [int(n) for n in args.sizes.split(",")]
    start = time.perf_counter()
    frame = evaluate_predictors(models, accuracy, space, sizes=sizes, seeds=range(args.seeds), test_size=args.test_size)
    wall = time.perf_counter() - start
    keys = ["model", "label", "n", "test_set"]
    grouped = frame.groupby(keys, sort=False)
    summary = grouped[[*METRICS, "seconds", "test_cells"]].mean().reset_index()
    summary["kendall_se"] = grouped["kendall"].std(ddof=1).to_numpy() / np.sqrt(args.seeds)
    figure(summary, args.figure)
    top = summary[summary["n"] == max(sizes)]
    best = top.loc[top["kendall"].idxmax()]
    result = {
        "answer": f"At n = {max(sizes)} {best['label']} ranks held-out {best['test_set']} cells best "
        f"(Kendall tau {best['kendall']:.3f}).",
        "labels": f"108-epoch test accuracy of training repeat 0 ({table.label})",
        "seeds": args.seeds,
        "test_size": args.test_size,
        "seconds": round(wall, 1),
        "figure": args.figure,
        "results": json.loads(summary.round(4).to_json(orient="records")),
        "command": "python benchmarks/predictors.py " + " ".join(sys.argv[1:]),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
