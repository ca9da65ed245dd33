"""Cost of the comparison harness; prints JSON.

Usage:
    python benchmarks/harness.py [--table partial] [--seeds 100] [--queries 150]

Measures the wall time and peak memory of `seeds` x `queries` for random
search and regularized evolution together (local process pool, all cores),
and the per-query search overhead (time inside ask + tell) of GP-BO and
NP-NAS on CPU over one run of `queries` queries.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=None)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--queries", type=int, default=150)
    args = parser.parse_args()

    import torch

    from nasbench_sim._io import data_dir
    from nasbench_sim.bench import open_table
    from nasbench_sim.harness.experiment import RunSpec, compare, run_task
    from nasbench_sim.harness.run import Budget
    from nasbench_sim.search import (
        GPBO,
        NPNAS,
        EvolutionConfig,
        GPBOConfig,
        NPNASConfig,
        RandomSearch,
        RandomSearchConfig,
        RegularizedEvolution,
    )
    from nasbench_sim.space.enumeration import CACHE_NAME, CellSpace

    CellSpace.load_or_build(progress=False)
    table = open_table(args.table, progress=False)
    space_folder = str(data_dir() / CACHE_NAME)
    budget = Budget(queries=args.queries)
    specs = [
        RunSpec(name, cls, cfg, seed, budget, table.folder, space_folder, "cpu")
        for seed in range(args.seeds)
        for name, cls, cfg in (
            ("rs", RandomSearch, RandomSearchConfig()),
            ("re", RegularizedEvolution, EvolutionConfig()),
        )
    ]
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        compare(specs, f"{tmp}/bench", table=table, workers=workers, progress=False)
        wall = time.perf_counter() - start
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    overhead = {}
    for name, cls, cfg in (("gp", GPBO, GPBOConfig()), ("np", NPNAS, NPNASConfig())):
        history = run_task(RunSpec(name, cls, cfg, 0, budget, table.folder, space_folder, "cpu"))
        seconds = history["search_seconds"].to_numpy()
        overhead[name] = {
            "mean_seconds_per_query": round(float(seconds.mean()), 4),
            "mean_seconds_per_query_last_50": round(float(seconds[-50:].mean()), 4),
            "max_seconds_one_query": round(float(seconds.max()), 3),
        }
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__},
        "table": table.label,
        "rs_re": {
            "runs": len(specs),
            "queries_per_run": args.queries,
            "workers": workers,
            "wall_seconds": round(wall, 1),
            "peak_rss_mb_parent": round(peak_self, 1),
            "peak_rss_mb_largest_worker": round(peak_child, 1),
            "target_wall_seconds": 30,
        },
        "search_overhead_cpu": overhead,
        "target_np_seconds_per_query": 0.5,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
