"""Random search on NAS-Bench-101 through the official `nasbench` API (a test fixture, written for this project).

Its data loading follows the pattern of published search scripts: `api.NASBench(path)`, `random.seed` and
`np.random.seed`, ModelSpecs sampled from random matrices (checked with `is_valid`) or drawn from the cells
of the file (`hash_iterator()` / `get_metrics_from_hash`), `query`, `get_budget_counters`. Run it unmodified:
    nasbench-sim run-official official_style_search.py --table surrogate -- --sampler random_spec
It prints one JSON line: the queried hashes, their validation/test accuracies and training times, the
incumbent and the budget counters.
"""

import argparse
import json
import random

import numpy as np
from nasbench import api

INPUT = "input"
OUTPUT = "output"
CONV3X3 = "conv3x3-bn-relu"
CONV1X1 = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"
NUM_VERTICES = 7
ALLOWED_OPS = [CONV3X3, CONV1X1, MAXPOOL3X3]
ALLOWED_EDGES = [0, 1]


def random_spec(nasbench):
    """A random valid ModelSpec: upper-triangular 0/1 matrix, random interior ops."""
    while True:
        matrix = np.triu(np.random.choice(ALLOWED_EDGES, size=(NUM_VERTICES, NUM_VERTICES)), 1)
        ops = np.random.choice(ALLOWED_OPS, size=NUM_VERTICES).tolist()
        ops[0], ops[-1] = INPUT, OUTPUT
        spec = api.ModelSpec(matrix=matrix, ops=ops)
        if nasbench.is_valid(spec):
            return spec


def cells_of_the_file(nasbench):
    """A ModelSpec of every cell in the dataset, in hash_iterator() order."""
    specs = []
    for unique_hash in nasbench.hash_iterator():
        fixed_metrics, _ = nasbench.get_metrics_from_hash(unique_hash)
        specs.append(api.ModelSpec(fixed_metrics["module_adjacency"], fixed_metrics["module_operations"]))
    return specs


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="/path/to/nasbench_only108.tfrecord", help="the dataset file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--sampler", choices=["file", "random_spec"], default="file")
    args = parser.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    nasbench = api.NASBench(args.data, seed=args.seed)
    pool = cells_of_the_file(nasbench) if args.sampler == "file" else None

    history = []
    best = None
    for _ in range(args.queries):
        spec = random.choice(pool) if pool else random_spec(nasbench)
        data = nasbench.query(spec)
        module_hash = spec.hash_spec(nasbench.config["available_ops"])
        history.append([module_hash, data["validation_accuracy"], data["test_accuracy"], data["training_time"]])
        if best is None or data["validation_accuracy"] > best[1]:
            best = history[-1]
    time_spent, epochs_spent = nasbench.get_budget_counters()
    print(json.dumps({"history": history, "best": best, "time_spent": time_spent, "epochs_spent": epochs_spent}))


if __name__ == "__main__":
    main()
