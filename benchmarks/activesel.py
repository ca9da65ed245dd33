"""Cost of the active-selection strategy; prints JSON.

Usage:
    python benchmarks/activesel.py [--device auto] [--train-size 4000] [--epochs 2]

Measures training throughput (samples per second) of the default small NB101
network on MNIST (on CPU, and on GPU when there is one), and the time split of
the strategy for one candidate: reference model on the random 25%, scoring
the remaining 75%, training the candidate on the 50% subset, versus training
it on all the data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--data", default="mnist")
    args = parser.parse_args()

    import torch

    from nasbench_sim._nn import resolve_device
    from nasbench_sim.activesel.data import load_dataset
    from nasbench_sim.activesel.selection import SelectionConfig, informative_subset, random_part
    from nasbench_sim.activesel.study import INCEPTION_LIKE, RESNET_LIKE
    from nasbench_sim.activesel.train import TrainConfig, predict_proba, train

    data = load_dataset(args.data).subsample(np.random.default_rng(0), args.train_size, 1000, 1000)
    n = len(data.train)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and args.device in ("auto", "cuda") else [])
    result: dict = {
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
        "data": {"name": data.name, "train": n, "epochs": args.epochs},
        "throughput_samples_per_second": {},
    }  # fmt: skip
    for device in devices:
        config = TrainConfig(epochs=args.epochs, device=device)
        run = train(RESNET_LIKE, data, np.arange(n), config, seed=0)
        result["throughput_samples_per_second"][device] = round(n * args.epochs / run.train_seconds, 1)

    config = TrainConfig(epochs=args.epochs, device=args.device)
    selection = SelectionConfig()
    rng = np.random.default_rng(0)
    base = random_part(n, selection, rng)
    ref = train(RESNET_LIKE, data, base, config, seed=0, keep_model=True)
    start = time.perf_counter()
    rest = np.setdiff1d(np.arange(n), base)
    probs = predict_proba(ref.model, data.train.take(rest), resolve_device(config.device))
    scoring = time.perf_counter() - start
    subset, _, _ = informative_subset(base, probs, data.train.y[rest], rest, n, selection, "l1")
    candidate_subset = train(INCEPTION_LIKE, data, subset, config, seed=1)
    candidate_full = train(INCEPTION_LIKE, data, np.arange(n), config, seed=1)
    result["time_split_seconds"] = {
        "reference_model": round(ref.train_seconds, 2),
        "scoring": round(scoring, 2),
        "candidate_on_subset": round(candidate_subset.train_seconds, 2),
        "candidate_on_full_data": round(candidate_full.train_seconds, 2),
        "subset_size": int(subset.size),
        "note": "the reference model and scoring are paid once per study, candidate training once per architecture",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
