"""Zero-cost proxies at initialisation against full training, on the active-selection study's cells; JSON.

Usage:
    python benchmarks/zero_cost_mnist.py [--summary docs/activesel/summary.json] [--seeds 5] [--batch 64]

Takes the study's candidate cells and their full-data test accuracy after its
1-epoch training (mean over the study's seeds) from the study's summary, scores
every cell with each proxy of `nasbench_sim.estimators.zero_cost` on MNIST
(`--seeds` draws of the weights and of a `--batch`-image training batch, the
study's network: stem 8, 3 stacks x 1 cell), and reports per proxy the Kendall
tau with the full-data accuracy (mean and SD over seeds), the full-data
accuracy of the cell it would pick, and its cost per cell, beside the study's
own estimators (1-epoch training on subsets, ranked across seeds, with the
full-vs-full ceiling).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def main() -> None:
    from scipy import stats

    from nasbench_sim.activesel.data import load_digits_data, load_mnist
    from nasbench_sim.estimators.zero_cost import PROXIES, score_batch
    from nasbench_sim.space import Cell

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", default="docs/activesel/summary.json")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument(
        "--mnist", default=None, help="MNIST file or folder (default: the study's sources); 'digits': a stand-in"
    )
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    summary = json.loads(open(args.summary).read())
    budget = next(b for b in summary["budgets"] if b["epochs"] == 1)
    full = {}
    for row in budget["cells"]:
        full[row["cell_index"]] = row["full_pct"]
    candidates = summary["candidates"]
    cells = [Cell(c["matrix"], c["ops"]) for c in candidates]
    accuracy = np.array([full[i] for i in range(len(cells))])
    training = summary["config"]["training"]
    network = {
        "in_channels": 1,
        "stem_channels": training["stem_channels"],
        "num_stacks": training["num_stacks"],
        "cells_per_stack": training["cells_per_stack"],
        "bn_momentum": training["bn_momentum"],
    }
    data = load_digits_data() if args.mnist == "digits" else load_mnist(args.mnist, allow_download=False)
    scores = np.zeros((args.seeds, len(PROXIES), len(cells)))
    seconds = 0.0
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        pick = rng.choice(len(data.train), size=args.batch, replace=False)
        x, y = data.train.x[pick], data.train.y[pick]
        for k, cell in enumerate(cells):
            start = time.perf_counter()
            out = score_batch(cell, x, y, seed=int(rng.integers(2**62)), **network)
            seconds += time.perf_counter() - start
            scores[seed, :, k] = [out[p] for p in PROXIES]
    results = {}
    for j, proxy in enumerate(PROXIES):
        taus = [stats.kendalltau(scores[s, j], accuracy).statistic for s in range(args.seeds)]
        picks = [accuracy[int(np.argmax(scores[s, j]))] for s in range(args.seeds)]
        results[proxy] = {
            "kendall_tau": round(float(np.mean(taus)), 4),
            "kendall_tau_sd": round(float(np.std(taus, ddof=1)), 4) if args.seeds > 1 else None,
            "pick_full_pct": round(float(np.mean(picks)), 3),
        }
    study = [
        {
            "regime": r["regime"],
            "score": r["score"],
            "kendall_tau": round(r["kendall_tau"], 4),
            "pick_full_pct": round(r["pick_full_pct"], 3),
        }
        for r in budget["ranking"]
    ]
    train_s = {r["regime"]: round(r["train_s_per_run"], 1) for r in budget["regimes"]}
    best = max(results, key=lambda p: results[p]["kendall_tau"])
    full_tau = next(r["kendall_tau"] for r in study if r["regime"] == "full" and r["score"] == "validation accuracy")
    result = {
        "answer": f"On the study's {len(cells)} cells the best zero-cost proxy, {best}, has Kendall tau "
        f"{results[best]['kendall_tau']:.2f} with full-data accuracy, against {full_tau:.2f} for an independent "
        f"full-data training run (the ceiling), at {1000 * seconds / (args.seeds * len(cells)):.0f} ms per cell.",
        "cells": len(cells),
        "seeds": args.seeds,
        "batch": args.batch,
        "network": network,
        "target": "full-data MNIST test accuracy after the study's 1-epoch training (mean over its seeds)",
        "seconds_per_cell_all_proxies": round(seconds / (args.seeds * len(cells)), 3),
        "proxies": results,
        "study_estimators": study,
        "study_train_seconds_per_run": train_s,
        "command": "python benchmarks/zero_cost_mnist.py " + " ".join(sys.argv[1:]),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
