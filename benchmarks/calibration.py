"""Calibration of the search surrogates' uncertainty on held-out cells; prints JSON.

Usage:
    python benchmarks/calibration.py [--table partial] [--seeds 20] [--sizes 30,90,150]

For each seed and training size n: n random cells with their naszilla signal
(mean validation accuracy over the 3 repeats, as `model_based.to_target`), and
two held-out sets: 300 naszilla mutations of the 5 best training cells (the
cells an acquisition function actually scores) and 300 random cells. Each model
is fitted on the training cells and scored on both sets:

- coverage: share of held-out targets inside mean ± 1.96 std (0.95 if calibrated);
- nll: mean Gaussian negative log-likelihood of the held-out targets;
- spearman: rank correlation of the predicted mean with the held-out targets;
- std ratio: mean predicted std on held-out cells / on the training cells
  (above 1 if the model knows what it has not seen).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy import stats


def _models(device: str):
    from nasbench_sim.search.models.ensemble import EnsembleConfig, MLPEnsemble
    from nasbench_sim.search.models.gp import DistanceGP, DistanceGPConfig
    from nasbench_sim.search.models.neural_process import NeuralProcess, NeuralProcessConfig

    return {
        "np (NP-NAS default)": ("adjacency", lambda rng: NeuralProcess(NeuralProcessConfig(), rng, device=device)),
        "np, epistemic std": (
            "adjacency",
            lambda rng: NeuralProcess(NeuralProcessConfig(predictive_std="epistemic"), rng, device=device),
        ),
        "np, 1 member, no attention (the old NP)": (
            "adjacency",
            lambda rng: NeuralProcess(NeuralProcessConfig(members=1, attention=False), rng, device=device),
        ),
        "gp (GP-BO)": ("raw_categorical", lambda rng: DistanceGP(DistanceGPConfig(), rng)),
        "mlp ensemble (BANANAS)": ("truncated_path", lambda rng: MLPEnsemble(EnsembleConfig(), rng, device=device)),
    }


def _scores(mean: np.ndarray, std: np.ndarray, y: np.ndarray) -> dict[str, float]:
    std = np.maximum(std, 1e-9)
    return {
        "coverage": float(np.mean(np.abs(y - mean) <= 1.96 * std)),
        "nll": float(np.mean(-stats.norm.logpdf(y, mean, std))),
        "spearman": float(stats.spearmanr(mean, y).statistic),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="partial")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--sizes", default="30,90,150")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch

    from nasbench_sim.bench import Oracle, open_table
    from nasbench_sim.search.base import unseen_random_cell
    from nasbench_sim.search.model_based import to_target
    from nasbench_sim.space import CellSpace
    from nasbench_sim.space.encodings import path_key
    from nasbench_sim.space.raw import CellBatch, mutate_raw

    torch.set_num_threads(1)
    table = open_table(args.table, progress=False)
    space = CellSpace.load_or_build(progress=False)
    oracle = Oracle(table, space=space)
    signal = oracle.mean("validation_accuracy")
    sizes = [int(x) for x in args.sizes.split(",")]
    models = _models(args.device)
    raw: dict[str, dict[int, list[dict[str, float]]]] = {m: {n: [] for n in sizes} for m in models}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        seen: set = set()
        cells = []
        for _ in range(max(sizes) + 300):
            cell = unseen_random_cell(rng, seen, "paths")
            seen.add(path_key(cell))
            cells.append(cell)
        pool = CellBatch.from_cells(cells)
        rows = space.indices_from_compact(*pool.compact)
        for n in sizes:
            train = pool.take(np.arange(n))
            y_train = to_target(signal[rows[:n]])
            best = np.argsort(-y_train)[:5]
            parents = train.take(best)
            near = mutate_raw(parents.edges, parents.labels, rng, 60)
            near_rows = space.indices_from_compact(*near.compact)
            keep = ~np.isin(near_rows, rows[:n])
            near, near_rows = near.take(np.flatnonzero(keep)), near_rows[keep]
            far = pool.take(np.arange(max(sizes), max(sizes) + 300))
            far_rows = rows[max(sizes) : max(sizes) + 300]
            for name, (encoding, make) in models.items():
                model = make(np.random.default_rng([seed, n]))
                model.fit(train.encode(encoding), y_train)
                _, std_train = model.predict(train.encode(encoding))
                entry = {"std_train": float(np.mean(std_train))}
                for label, batch, batch_rows in (("near", near, near_rows), ("random", far, far_rows)):
                    mean, std = model.predict(batch.encode(encoding))
                    for key, value in _scores(mean, std, to_target(signal[batch_rows])).items():
                        entry[f"{key}_{label}"] = value
                    entry[f"std_ratio_{label}"] = float(np.mean(std)) / max(entry["std_train"], 1e-12)
                raw[name][n].append(entry)
    result = {"table": table.label, "seeds": args.seeds, "held_out": {"near": "mutations of the 5 best", "random": 300}}
    result["models"] = {
        name: {
            str(n): {k: round(float(np.mean([e[k] for e in entries])), 3) for k in entries[0]}
            for n, entries in by_n.items()
        }
        for name, by_n in raw.items()
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
